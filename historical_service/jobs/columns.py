"""What the ``historical.jobs`` statements share: the terminal states and the columns read."""

from __future__ import annotations

TERMINAL = ("completed", "failed", "cancelled")

COLUMNS = (
    "job_id, user_id, lane, stations, sensors, range_start, range_end, resolution, status, "
    "progress, rows_done, error, cancel_requested, attempts, result_path, result_expires_at, "
    "queued_at, started_at, finished_at"
)
