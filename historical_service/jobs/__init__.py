"""Job state in PostgreSQL: the one place that says what a job is doing.

Every statement on ``historical.jobs`` is in this package, whoever runs it:

- ``requests``: the API and ``scada jobs`` (record, find, list, cancel, retry);
- ``leases``: the workers (claim, heartbeat, finish);
- ``sweeps``: the janitor (expired results, lost jobs, leftover files).

Callers import the package (``from historical_service import jobs``).
"""

from __future__ import annotations

from historical_service.jobs.columns import TERMINAL
from historical_service.jobs.leases import claim, fail_forbidden, finish, heartbeat
from historical_service.jobs.requests import (
    CancelOutcome,
    command_of,
    find_reusable,
    get_job,
    insert_job,
    list_jobs,
    operator_cancel,
    request_cancel,
    requeue,
)
from historical_service.jobs.sweeps import Attempts, attempts_of, expire_results, fail_lost

__all__ = [
    "TERMINAL",
    "Attempts",
    "CancelOutcome",
    "attempts_of",
    "claim",
    "command_of",
    "expire_results",
    "fail_forbidden",
    "fail_lost",
    "find_reusable",
    "finish",
    "get_job",
    "heartbeat",
    "insert_job",
    "list_jobs",
    "operator_cancel",
    "request_cancel",
    "requeue",
]
