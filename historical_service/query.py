"""Reading a job's range in time chunks, straight into a CSV result file (COPY … TO STDOUT).

PostgreSQL formats the CSV itself; the worker only appends each chunk's output
to the file, so a raw export streams at COPY speed. Between chunks the caller
records progress and checks for cancellation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from historical_service.resolution import Plan

Connection = asyncpg.Connection | PoolConnectionProxy

RAW_HEADER = "station_id,ts,sensor,value\n"
AGGREGATED_HEADER = "station_id,bucket,sensor,avg,min,max,count\n"

_RAW = """
SELECT r.station_id, to_json(r.ts) #>> '{}' AS ts, kv.key AS sensor,
       kv.value::double precision AS value
FROM telemetry.station_readings r CROSS JOIN LATERAL jsonb_each_text(r."values") kv
WHERE r.station_id = ANY($1::text[]) AND r.ts >= $2 AND r.ts < $3 AND kv.key = ANY($4::text[])
ORDER BY r.station_id, r.ts, kv.key
"""
# Timestamps leave as RFC 3339 (``to_json``), in UTC: the session time zone is set by the worker.

_AGGREGATED = """
SELECT r.station_id, to_json(time_bucket($5::interval, r.bucket)) #>> '{{}}' AS bucket,
       s.key AS sensor,
       sum((s.value ->> 2)::float8) / sum((s.value ->> 3)::float8) AS avg,
       min((s.value ->> 0)::float8) AS min, max((s.value ->> 1)::float8) AS max,
       sum((s.value ->> 3)::bigint) AS count
FROM telemetry.{source} r CROSS JOIN LATERAL jsonb_each(r.stats) s
WHERE r.station_id = ANY($1::text[]) AND r.bucket >= $2 AND r.bucket < $3
  AND s.key = ANY($4::text[])
GROUP BY r.station_id, time_bucket($5::interval, r.bucket), s.key
ORDER BY r.station_id, s.key, time_bucket($5::interval, r.bucket)
"""


def chunks(
    start: datetime, end: datetime, plan: Plan, pieces: int = 20
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in about ``pieces`` windows (raw: at most a day), aligned to buckets.

    Small windows bound how long a cancel waits and how stale progress gets.
    """
    step = max((end - start) / pieces, plan.bucket or timedelta(minutes=1))
    if plan.is_raw:
        step = min(step, timedelta(days=1))
    if plan.bucket:
        step = plan.bucket * max(1, round(step / plan.bucket))
    windows = []
    at = start
    while at < end:
        windows.append((at, min(end, at + step)))
        at += step
    return windows


async def copy_chunk(
    conn: Connection,
    out: BinaryIO,
    plan: Plan,
    stations: list[str],
    sensors: list[str],
    window: tuple[datetime, datetime],
) -> int:
    """Append one window's rows as CSV to ``out``; return how many rows."""
    args: tuple[object, ...]
    if plan.is_raw:
        query, args = _RAW, (stations, window[0], window[1], sensors)
    else:
        query = _AGGREGATED.format(source=plan.source)
        args = (stations, window[0], window[1], sensors, plan.bucket)
    status = await conn.copy_from_query(query, *args, output=out, format="csv")
    return int(status.split()[-1])


def header(plan: Plan) -> str:
    return RAW_HEADER if plan.is_raw else AGGREGATED_HEADER


async def read_csv_rows(path: Path, offset: int, limit: int) -> AsyncIterator[list[str]]:
    """Rows ``offset`` … ``offset + limit`` of a result file, header excluded."""
    with path.open() as handle:
        next(handle, None)
        for n, line in enumerate(handle):
            if n < offset:
                continue
            if n >= offset + limit:
                break
            yield line.rstrip("\n").split(",")
