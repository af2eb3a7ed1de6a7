"""A job named on the command line: its whole id, or a unique prefix of it, as git names commits."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

import asyncpg
import typer

from base.errors import ScadaError
from historical_service import jobs
from historical_service.jobs.requests import jobs_with_prefix

_PREFIX = re.compile(r"[0-9a-fA-F-]{4,36}")


class UnknownJob(ScadaError):
    """No job answers to the name given, or more than one does."""


def _job_ref(value: str) -> str:
    if not _PREFIX.fullmatch(value):
        raise typer.BadParameter("give a job id, or 4 or more of its first characters")
    return value


JobRef = Annotated[
    str,
    typer.Argument(
        metavar="JOB",
        help="The job's id, or its first characters (at least 4) if unique.",
        callback=_job_ref,
    ),
]


async def resolve(pool: asyncpg.Pool, ref: str) -> UUID:
    """The job ``ref`` names: a whole id as it is, else the one job whose id starts so."""
    try:
        return UUID(ref)
    except ValueError:
        pass  # not a whole id: a prefix of one
    found = await jobs_with_prefix(pool, ref)
    if not found:
        raise UnknownJob(f"no such job: {ref}")
    if len(found) > 1:
        candidates = [await jobs.get_job(pool, job_id) for job_id in found]
        listed = "\n".join(
            f"  {c['job_id']}  {c['status']:<9}  queued {c['queued_at']:%Y-%m-%d %H:%M:%S}"
            for c in candidates
            if c is not None
        )
        raise UnknownJob(f"job id prefix {ref} is ambiguous; it starts these jobs:\n{listed}")
    return found[0]
