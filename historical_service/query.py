"""Reading a job's range in time chunks, straight into a CSV result file (COPY … TO STDOUT).

PostgreSQL formats the CSV itself; the worker only appends each chunk's output
to the file, so a raw export streams at COPY speed. A query runs on one core,
so two chunks are read at once on two connections, each into a part file that
is appended to the result in order (decisions/0006). Between chunks the caller
records progress and checks for cancellation.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import threading
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import asyncpg

from historical_service.resolution import Plan

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RAW_HEADER = "station_id,ts,sensor,value,unit\n"
AGGREGATED_HEADER = "station_id,bucket,sensor,avg,min,max,count,value,kind,unit\n"
TEXT_COLUMNS = ("kind", "unit")
"""Columns of a result that are words, not numbers (the same for every row of a sensor)."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(column: str) -> str:
    """``column`` as a CSV text cell no spreadsheet reads as a formula (OWASP: a leading ')."""
    return (
        f"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {column} ELSE {column} END"
    )


def plain_text(cell: str) -> str:
    """A text cell of a result as stored: the guard ``_text_cell`` added removed."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS else cell


_RAW = f"""
SELECT {_text_cell("r.station_id")}, r.ts_text, {_text_cell("kv.key")}, kv.value,
       {_text_cell("($5::text[])[array_position($4::text[], kv.key)]")}
FROM (SELECT station_id, to_json(ts) #>> '{{}}' AS ts_text, "values"
      FROM telemetry.station_readings
      WHERE station_id = ANY($1::text[]) AND ts >= $2 AND ts < $3
      ORDER BY station_id, ts OFFSET 0) r
CROSS JOIN LATERAL jsonb_each_text(r."values") kv
WHERE kv.key = ANY($4::text[])
"""
# Rows come in primary-key order (station, ts) and, within a reading, in jsonb's key
# order: no sort of the unfolded rows. The subquery formats each timestamp once per
# reading, not once per sensor (the measurements: docs/decisions/0006).
# Values leave as jsonb wrote them (a JSON number's text): casting to double precision and
# formatting that again took a fifth of the query (469k -> 507-573k rows/s, one reader).
# Timestamps leave as RFC 3339 (``to_json``), in UTC: the session time zone is set per read.

_AGGREGATED = f"""
SELECT {_text_cell("r.station_id")},
       to_json(time_bucket($7::interval, r.bucket)) #>> '{{{{}}}}' AS bucket,
       {_text_cell("s.key")} AS sensor,
       sum((s.value ->> 2)::float8) / sum((s.value ->> 3)::float8) AS avg,
       min((s.value ->> 0)::float8) AS min, max((s.value ->> 1)::float8) AS max,
       sum((s.value ->> 3)::bigint) AS count,
       CASE c.kind
           WHEN 'accumulation' THEN sum((s.value ->> 2)::float8)
           -- the vector mean, only if every bucket kept the sums (stored as an angle)
           WHEN 'angle' THEN CASE WHEN count(s.value ->> 4) = count(*)
               THEN telemetry.mean_direction(sum((s.value ->> 4)::float8),
                   sum((s.value ->> 5)::float8), sum((s.value ->> 3)::float8)) END
           WHEN 'counter' THEN (max((s.value ->> 1)::float8) - min((s.value ->> 0)::float8))
               / extract(epoch FROM $7::interval)
           WHEN 'state' THEN max((s.value ->> 1)::float8)
           ELSE sum((s.value ->> 2)::float8) / sum((s.value ->> 3)::float8)
       END AS value,
       c.kind, {_text_cell("c.unit")} AS unit
FROM telemetry.{{source}} r CROSS JOIN LATERAL jsonb_each(r.stats) s
JOIN unnest($4::text[], $5::text[], $6::text[]) AS c(sensor, kind, unit) ON c.sensor = s.key
WHERE r.station_id = ANY($1::text[]) AND r.bucket >= $2 AND r.bucket < $3
GROUP BY r.station_id, time_bucket($7::interval, r.bucket), s.key, c.kind, c.unit
ORDER BY r.station_id, s.key, time_bucket($7::interval, r.bucket)
"""
# The catalogue arrives as three aligned arrays ($4 sensors, $5 kinds, $6 units): the
# job's own sensors as the org's catalogue describes them (``unknown``: aggregated as a
# mean), so a join on a handful of rows, never a lookup per reading.


def chunks(start: datetime, end: datetime, plan: Plan) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in windows: raw in about 20 (at most a day each), aggregated in about 4.

    Small windows bound how long a cancel waits and how stale progress gets;
    an aggregated read is fast, so it is split less. Aggregated windows meet
    on bucket boundaries (epoch-aligned, like ``time_bucket``), so no bucket is
    ever split across two windows.
    """
    if plan.bucket is None:
        step = min(max((end - start) / 20, timedelta(minutes=1)), timedelta(days=1))
        edges = [start + step * k for k in range(1, math.ceil((end - start) / step))]
    else:
        step = plan.bucket * max(1, math.ceil((end - start) / 4 / plan.bucket))
        first = _EPOCH + plan.bucket * ((start - _EPOCH) // plan.bucket) + step
        edges = []
        while first < end:
            edges.append(first)
            first += step
    bounds = [start, *edges, end]
    return list(itertools.pairwise(bounds))


READERS = 2
"""Windows read at once, each by its own connection (and PostgreSQL backend)."""


@dataclass(frozen=True)
class SensorColumns:
    """The job's sensors as the catalogue describes them, as the queries take them."""

    names: list[str]
    kinds: list[str]
    units: list[str]

    @classmethod
    def plain(cls, sensors: list[str]) -> SensorColumns:
        """Sensors nobody catalogued: aggregated as a mean, no unit."""
        names = list(dict.fromkeys(sensors))
        return cls(names, ["unknown"] * len(names), [""] * len(names))


async def copy_windows(
    pool: asyncpg.Pool,
    path: Path,
    plan: Plan,
    stations: list[str],
    sensors: SensorColumns,
    windows: list[tuple[datetime, datetime]],
    *,
    readers: int = READERS,
) -> AsyncGenerator[int, None]:
    """Append each window's rows as CSV to ``path``, in window order; yield each one's count.

    Up to ``readers`` windows are read at once, each into its own spool (memory,
    then a part file next to ``path`` past a few megabytes); a window is appended
    as soon as every earlier one is. Closing the iterator early (a cancel) waits
    for the reads in flight — each is one window — and removes their parts.
    """
    upcoming = iter(enumerate(windows))
    reading: deque[tuple[_Spool, asyncio.Task[int]]] = deque()
    spools: list[_Spool] = []

    def start_reads() -> None:
        while len(reading) < readers and (item := next(upcoming, None)) is not None:
            n, window = item
            spools.append(spool := _Spool(path.with_name(f"{path.name}.{n}.part")))
            task = asyncio.create_task(_copy_window(pool, spool, plan, stations, sensors, window))
            reading.append((spool, task))

    try:
        start_reads()
        while reading:
            spool, task = reading.popleft()
            rows = await task
            start_reads()
            await asyncio.to_thread(spool.append_to, path)
            yield rows
    finally:
        await asyncio.gather(*(task for _, task in reading), return_exceptions=True)
        await asyncio.to_thread(_discard, spools)  # appended ones are empty already


async def _copy_window(
    pool: asyncpg.Pool,
    spool: _Spool,
    plan: Plan,
    stations: list[str],
    sensors: SensorColumns,
    window: tuple[datetime, datetime],
) -> int:
    args: tuple[object, ...]
    if plan.is_raw:  # $4 the sensors, $5 their units
        query, args = _RAW, (stations, window[0], window[1], sensors.names, sensors.units)
    else:
        query = _AGGREGATED.format(source=plan.source)
        catalogue = (sensors.names, sensors.kinds, sensors.units)
        args = (stations, window[0], window[1], *catalogue, plan.bucket)
    async with pool.acquire() as conn:
        # Returned connections are RESET ALL by the pool, so these hold for this read only.
        await conn.execute("SET jit = off; SET TimeZone = 'UTC'")
        status = await conn.copy_from_query(query, *args, output=spool.write, format="csv")
    spool.check()
    return int(status.split()[-1])


class _Spool:
    """One window's COPY output: in memory, spilled to a part file 4 MB at a time.

    asyncpg hands over each ~9 kB network read; given a file, it writes each one
    through the default executor, and those thread hops were about half the worker's
    CPU in a raw export (docs/decisions/0006). A chart's window
    (a few kB) never touches the disk until it is appended to the result.

    The file work runs in threads, which a cancelled task does not stop: a lock and
    ``discarded`` keep a spill or an append that outlives its task from racing the
    clean-up (or recreating a part after it).
    """

    SPILL_AT = 4 << 20

    def __init__(self, part: Path) -> None:
        self.part = part
        self.buffer = bytearray()
        self.file: BinaryIO | None = None
        self.discarded = False
        self.failure: OSError | None = None
        self.lock = threading.Lock()

    async def write(self, data: bytes) -> None:
        # Never raise into asyncpg: a COPY whose output callback raised leaves a pooled
        # connection that never comes back (its release waits forever; seen with a small
        # window and a failing disk). The failure is kept, the rest of the window read
        # and dropped, and ``check`` raises it once the COPY has ended cleanly.
        if self.failure is not None:
            return
        self.buffer += data
        if len(self.buffer) >= self.SPILL_AT:
            full, self.buffer = self.buffer, bytearray()
            try:
                await asyncio.to_thread(self._spill, full)
            except OSError as exc:
                self.failure = exc

    def check(self) -> None:
        """Raise what writing this window's output failed with, if anything."""
        if self.failure is not None:
            raise self.failure

    def _spill(self, data: bytearray) -> None:
        with self.lock:
            if self.discarded:
                return
            if self.file is None:
                self.file = self.part.open("wb")
            self.file.write(data)

    def append_to(self, path: Path) -> None:
        """Append everything to ``path`` (the part file by sendfile, in the kernel); empty it."""
        with self.lock:
            if self.discarded:
                return
            # Not opened for appending: sendfile refuses an O_APPEND target. Written at the end.
            with path.open("r+b") as target:
                target.seek(0, os.SEEK_END)
                if self.file is not None:
                    self.file.close()
                    self.file = None
                    with self.part.open("rb") as source:
                        size, offset = os.fstat(source.fileno()).st_size, 0
                        while offset < size:
                            offset += os.sendfile(
                                target.fileno(), source.fileno(), offset, size - offset
                            )
                    self.part.unlink()
                target.write(self.buffer)
            self.buffer = bytearray()

    def discard(self) -> None:
        with self.lock:
            self.discarded = True
            if self.file is not None:
                self.file.close()
                self.file = None
            self.part.unlink(missing_ok=True)
            self.buffer = bytearray()


def _discard(spools: list[_Spool]) -> None:
    for spool in spools:
        spool.discard()


def header(plan: Plan) -> str:
    return RAW_HEADER if plan.is_raw else AGGREGATED_HEADER
