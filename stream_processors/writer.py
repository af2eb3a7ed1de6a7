"""Writing decoded readings messages to TimescaleDB in one transaction.

Per batch, on one connection:

1. COPY the readings into a session-temporary staging table;
2. one statement inserts new (station, ts) rows, merges sensors that an
   existing row lacks (first write wins per sensor), and adds exactly the
   newly stored values to the 1-minute, 1-hour and 6-hour rollups, and keeps each
   station's newest reading (``station_latest``) and written days current.
   When every staged row turns out to be new (a live batch, a backlog), what the
   batch adds to the rollups and to ``station_latest`` is what ``stage`` computed
   from it in Python beforehand; otherwise the statement computes it from the rows
   it actually inserted or merged (decisions/0007);
3. one row per message in ``ingest.persisted_messages`` (its primary key makes
   a redelivered message count once), and the ingest's receipt in ``ingest.ingests``
   from the messages themselves (first one wins): the gateway never writes it.

Everything is idempotent: a batch written twice (a crash after the database
commit, before the Kafka commit) changes nothing the second time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import orjson

from base.storage.catalogue import angle_sensors
from base.storage.database import Connection
from schemas.readings_codec import Receipt, StoredMessage, Values

STAGE = "sink_stage"

_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE} (
    station_id text        NOT NULL,
    ts         timestamptz NOT NULL,
    "values"   jsonb       NOT NULL,
    ingest_id  uuid
) ON COMMIT DELETE ROWS
"""

_ROLLUP = """
INSERT INTO telemetry.{table} AS r (station_id, bucket, stats)
SELECT station_id, bucket, stats FROM {source}
ON CONFLICT (station_id, bucket)
DO UPDATE SET stats = telemetry.merge_stats(r.stats, EXCLUDED.stats)
RETURNING 1
"""

# A level's rows: the batch's own (parameters ``$n``-``$n+2``) when every staged row was
# new, else aggregated here. A false one-time filter keeps the other branch from running.
_LEVEL = """
SELECT * FROM unnest(${n}::text[], ${n1}::timestamptz[], ${n2}::jsonb[])
    AS b (station_id, bucket, stats)
WHERE (SELECT all_new FROM fresh)
UNION ALL
SELECT station_id, bucket, jsonb_object_agg(sensor, CASE WHEN ssin IS NULL
    THEN jsonb_build_array(min, max, sum, count)
    ELSE jsonb_build_array(min, max, sum, count, ssin, scos) END)
FROM {source} WHERE NOT (SELECT all_new FROM fresh) GROUP BY station_id, bucket
"""


def _level_sql(n: int, source: str) -> str:
    return _LEVEL.format(n=n, n1=n + 1, n2=n + 2, source=source)


_STORE = f"""
WITH ins AS (
    INSERT INTO telemetry.station_readings (station_id, ts, "values", ingest_id)
    SELECT station_id, ts, "values", ingest_id FROM {STAGE}
    ON CONFLICT (station_id, ts) DO NOTHING
    RETURNING station_id, ts, "values"
), fresh AS (
    -- $14 is the number of staged rows: were they all new?
    SELECT (SELECT count(*) FROM ins) = $14::bigint AS all_new
), added AS (
    -- Rows that were already there (not inserted above) and gain sensors they lacked.
    -- Looked up one by one through the primary key: usually there are none, and a
    -- join would let the planner scan whole chunks. None at all if every row was new.
    SELECT s.station_id, s.ts, s."values" - ARRAY(SELECT jsonb_object_keys(r."values")) AS new
    FROM {STAGE} s
    CROSS JOIN LATERAL (
        SELECT e."values" FROM telemetry.station_readings e
        WHERE e.station_id = s.station_id AND e.ts = s.ts LIMIT 1
    ) r
    WHERE NOT (SELECT all_new FROM fresh)
      AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.station_id = s.station_id AND ins.ts = s.ts)
      AND NOT r."values" ?& ARRAY(SELECT jsonb_object_keys(s."values"))
), merged AS (
    UPDATE telemetry.station_readings r SET "values" = a.new || r."values"
    FROM added a WHERE r.station_id = a.station_id AND r.ts = a.ts
    RETURNING 1
), vals AS (
    SELECT f.station_id, f.ts, kv.key AS sensor, kv.value::double precision AS value
    FROM (SELECT station_id, ts, "values" FROM ins
          UNION ALL SELECT station_id, ts, new FROM added) f
    CROSS JOIN LATERAL jsonb_each_text(f."values") kv
    WHERE kv.value IS NOT NULL
), agg_1m AS (
    -- Angles ($15) also keep the sums of their sines and cosines: the vector mean's.
    SELECT station_id, time_bucket('1 minute', ts) AS bucket, sensor,
           min(value) AS min, max(value) AS max, sum(value) AS sum, count(*) AS count,
           sum(sin(radians(value))) FILTER (WHERE sensor = ANY($15::text[])) AS ssin,
           sum(cos(radians(value))) FILTER (WHERE sensor = ANY($15::text[])) AS scos
    FROM vals GROUP BY 1, 2, 3
), agg_1h AS (
    SELECT station_id, time_bucket('1 hour', bucket) AS bucket, sensor,
           min(min) AS min, max(max) AS max, sum(sum) AS sum, sum(count) AS count,
           sum(ssin) AS ssin, sum(scos) AS scos
    FROM agg_1m GROUP BY 1, 2, 3
), agg_6h AS (
    SELECT station_id, time_bucket('6 hours', bucket) AS bucket, sensor,
           min(min) AS min, max(max) AS max, sum(sum) AS sum, sum(count) AS count,
           sum(ssin) AS ssin, sum(scos) AS scos
    FROM agg_1h GROUP BY 1, 2, 3
), stats_1m AS ({_level_sql(1, "agg_1m")}
), stats_1h AS ({_level_sql(4, "agg_1h")}
), stats_6h AS ({_level_sql(7, "agg_6h")}
), touched AS (
    INSERT INTO telemetry.station_day_writes AS w (station_id, day, last_stored_at)
    SELECT station_id, time_bucket('1 day', ts), now() FROM ins
    UNION SELECT station_id, time_bucket('1 day', ts), now() FROM added
    ON CONFLICT (station_id, day) DO UPDATE SET last_stored_at = EXCLUDED.last_stored_at
    RETURNING 1
), latest AS (
    INSERT INTO telemetry.station_latest AS l (station_id, last_ts, last_values, last_stored_at)
    SELECT *, now() FROM (
        SELECT * FROM unnest($10::text[], $11::timestamptz[], $12::jsonb[])
        WHERE (SELECT all_new FROM fresh)
        UNION ALL
        SELECT station_id, max(ts), telemetry.jsonb_merge_agg("values" ORDER BY ts)
        FROM ins WHERE NOT (SELECT all_new FROM fresh) GROUP BY station_id
    ) b (station_id, last_ts, last_values) ORDER BY station_id
    ON CONFLICT (station_id) DO UPDATE SET
        last_ts = greatest(l.last_ts, EXCLUDED.last_ts),
        last_values = CASE WHEN EXCLUDED.last_ts >= l.last_ts
                           THEN l.last_values || EXCLUDED.last_values
                           ELSE EXCLUDED.last_values || l.last_values END,
        last_stored_at = EXCLUDED.last_stored_at
    RETURNING 1
), r1m AS ({_ROLLUP.format(table="station_rollup_1m", source="stats_1m")}
), r1h AS ({_ROLLUP.format(table="station_rollup_1h", source="stats_1h")}
), r6h AS ({_ROLLUP.format(table="station_rollup_6h", source="stats_6h")}
)
SELECT (SELECT count(*) FROM ins) AS inserted,
       (SELECT count(*) FROM merged) AS merged,
       CASE WHEN (SELECT all_new FROM fresh) THEN $13::bigint
            ELSE (SELECT count(*) FROM vals) END AS values_added,
       (SELECT count(*) FROM r1m) + (SELECT count(*) FROM r1h) + (SELECT count(*) FROM r6h)
           AS rollup_rows
"""

_RECORD_RECEIPTS = """
INSERT INTO ingest.ingests (ingest_id, org_id, token_id, reading_count, message_count, accepted_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::int[], $6::timestamptz[])
ON CONFLICT (ingest_id) DO NOTHING
"""

_RECORD_MESSAGES = """
INSERT INTO ingest.persisted_messages (ingest_id, station_id, chunk, persisted, dead_lettered)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::int[])
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class MessageOutcome:
    """A message finished with: stored (``persisted``) or dead-lettered."""

    ingest_id: UUID
    station_id: str
    chunk: int
    persisted: int
    dead_lettered: int
    receipt: Receipt | None = None


@dataclass(frozen=True)
class WriteResult:
    rows_inserted: int
    rows_merged: int
    values_added: int
    readings_in_batch: int

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.rows_inserted + other.rows_inserted,
            self.rows_merged + other.rows_merged,
            self.values_added + other.values_added,
            self.readings_in_batch + other.readings_in_batch,
        )


async def prepare_connection(conn: Connection) -> None:
    """Pool ``init``: a binary jsonb codec that takes pre-encoded JSON, and the staging table."""
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=lambda value: b"\x01" + value,  # jsonb binary format: version 1, then the text
        decoder=lambda data: orjson.loads(data[1:]),
    )
    # The batch statement's cost estimates cross PostgreSQL's JIT thresholds, and JIT
    # compiling it took most of the write (docs/decisions/0004).
    await conn.execute("SET jit = off")
    await conn.execute(_CREATE_STAGE)


StagingRow = tuple[str, datetime, bytes, UUID]
Level = tuple[list[str], list[datetime], list[bytes]]
"""Rows of one rollup level as array parameters: stations, buckets, ``stats`` as JSON."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
Stats = dict[str, list[float]]
"""sensor -> [min, max, sum, count], and for an angle also [sum of sines, sum of cosines]."""


@dataclass(frozen=True)
class Staged:
    """A batch as the statement takes it, prepared off the database's clock.

    ``rows``: one per (station, ts). ``levels`` (1 minute, 1 hour, 6 hours),
    ``latest`` and ``values``: what those rows add to the rollups, to each station's
    newest values and how many values they hold — used by the statement only if
    every row turns out to be new.
    """

    rows: list[StagingRow]
    levels: tuple[Level, Level, Level]
    latest: Level
    values: int
    usable: bool = True
    """False if the aggregates cannot stand for the database's (a sum overflowed)."""
    angles: frozenset[str] = frozenset()
    """The sensors staged as angles; the SQL path treats the same ones so."""


def stage(messages: list[StoredMessage], angles: frozenset[str] = frozenset()) -> Staged:
    """One row per (station, ts); a station's repeats within the batch merge, first value wins.

    Sensors of ``angles`` (the catalogue's kind ``angle``) also get the sums of their
    sines and cosines in the rollups, so a bucket's direction is a vector mean.
    """
    rows: dict[tuple[str, datetime], tuple[Values, UUID]] = {}
    for message in messages:
        station, ingest = message.station_id, message.ingest_id
        for ts, values in message.readings:
            key = (station, ts)
            seen = rows.get(key)
            if seen is None:
                rows[key] = (values, ingest)
            else:
                rows[key] = ({**values, **seen[0]}, seen[1])
    dumps = orjson.dumps
    minutes, count = _minute_stats(rows, angles)
    hours = _coarser(minutes, 60)
    six_hours = _coarser(hours, 6)
    # A sum past the largest double is inf here (and null in JSON); the SQL path refuses
    # it as an overflow and the message is dead-lettered, so leave such a batch to it.
    finite = all(
        math.isfinite(s[2])
        for level in (minutes, hours, six_hours)
        for stats in level.values()
        for s in stats.values()
    )
    return Staged(
        [(s, ts, dumps(values), ingest) for (s, ts), (values, ingest) in rows.items()],
        (_level(minutes, 1), _level(hours, 60), _level(six_hours, 360)),
        _latest(rows),
        count,
        finite,
        angles,
    )


def _minute_stats(
    rows: dict[tuple[str, datetime], tuple[Values, UUID]],
    angles: frozenset[str] = frozenset(),
) -> tuple[dict[tuple[str, int], Stats], int]:
    """Per (station, minute since the epoch): each sensor's min, max, sum and count.

    Readings are grouped by bucket first and each sensor's values then reduced by
    ``min``/``max``/``sum`` over a list, which measured faster than updating running
    statistics value by value (docs/decisions/0007).
    """
    grouped: dict[tuple[str, int], list[Values]] = {}
    for (station, ts), (values, _) in rows.items():
        key = (station, (ts - _EPOCH) // _MINUTE)
        readings = grouped.get(key)
        if readings is None:
            grouped[key] = [values]
        else:
            readings.append(values)
    buckets: dict[tuple[str, int], Stats] = {}
    count = 0
    for key, readings in grouped.items():
        stats: Stats = {}
        for sensor in readings[0].keys() if len(readings) == 1 else set().union(*readings):
            # As double precision, like the SQL path (a JSON integer may exceed 64 bits).
            found = [float(v) for r in readings if (v := r.get(sensor)) is not None]
            if found:
                stats[sensor] = [min(found), max(found), sum(found), len(found)]
                if sensor in angles:
                    turns = [math.radians(v) for v in found]
                    stats[sensor] += [
                        math.fsum(map(math.sin, turns)),
                        math.fsum(map(math.cos, turns)),
                    ]
                count += len(found)
        if stats:
            buckets[key] = stats
    return buckets, count


def _coarser(buckets: dict[tuple[str, int], Stats], factor: int) -> dict[tuple[str, int], Stats]:
    """The same statistics in buckets ``factor`` times as long (epoch-aligned, as time_bucket)."""
    merged: dict[tuple[str, int], Stats] = {}
    for (station, n), stats in buckets.items():
        into = merged.setdefault((station, n // factor), {})
        for sensor, new in stats.items():
            s = into.get(sensor)
            if s is None:
                into[sensor] = list(new)
            else:
                s[0], s[1] = min(s[0], new[0]), max(s[1], new[1])
                s[2] += new[2]
                s[3] += new[3]
                if len(s) == 6:  # an angle: every bucket of the batch has the sums
                    s[4] += new[4]
                    s[5] += new[5]
    return merged


def _level(buckets: dict[tuple[str, int], Stats], minutes: int) -> Level:
    step = _MINUTE * minutes
    keys = sorted(buckets)
    return (
        [station for station, _ in keys],
        [_EPOCH + step * n for _, n in keys],
        [orjson.dumps(buckets[key]) for key in keys],
    )


def _latest(rows: dict[tuple[str, datetime], tuple[Values, UUID]]) -> Level:
    """Each station's newest timestamp and the newest value of every sensor (nulls included)."""
    newest: dict[str, tuple[datetime, Values]] = {}
    for station, ts in sorted(rows, key=lambda key: key[1]):
        values = rows[(station, ts)][0]
        seen = newest.get(station)
        newest[station] = (ts, values if seen is None else {**seen[1], **values})
    stations = sorted(newest)
    return (
        stations,
        [newest[s][0] for s in stations],
        [orjson.dumps(newest[s][1]) for s in stations],
    )


async def write_batch(
    conn: Connection,
    messages: list[StoredMessage],
    dead_lettered: list[MessageOutcome] | None = None,
    staged: Staged | None = None,
    angles: frozenset[str] | None = None,
) -> WriteResult:
    """Store ``messages`` and record them (and ``dead_lettered``) in one transaction.

    ``staged`` is ``stage(messages, angles)`` when the caller prepared it already;
    else it is staged here with ``angles`` (the sink's), or the catalogue's read now.
    """
    if staged is None:
        staged = stage(messages, await angle_sensors(conn) if angles is None else angles)
    rows = staged.rows
    outcomes = [
        MessageOutcome(m.ingest_id, m.station_id, m.chunk, len(m.readings), 0, m.receipt)
        for m in messages
    ]
    outcomes += dead_lettered or []
    # Sorted: two transactions inserting receipts of the same ingests take their row
    # locks in one order (unsorted, [A, B] against [B, A] deadlocked).
    receipts = sorted(
        {o.receipt.ingest_id: o.receipt for o in outcomes if o.receipt}.values(),
        key=lambda r: r.ingest_id,
    )
    result = WriteResult(0, 0, 0, 0)
    async with conn.transaction():
        if rows:
            await conn.copy_records_to_table(
                STAGE, records=rows, columns=["station_id", "ts", "values", "ingest_id"]
            )
            counts = await conn.fetchrow(
                _STORE,
                *staged.levels[0],
                *staged.levels[1],
                *staged.levels[2],
                *staged.latest,
                staged.values,
                len(rows) if staged.usable else -1,  # -1: never "all new", the SQL path
                sorted(staged.angles),
            )
            assert counts is not None
            result = WriteResult(
                rows_inserted=counts["inserted"],
                rows_merged=counts["merged"],
                values_added=counts["values_added"],
                readings_in_batch=sum(len(m.readings) for m in messages),
            )
        if receipts:
            await conn.execute(
                _RECORD_RECEIPTS,
                [r.ingest_id for r in receipts],
                [r.org_id for r in receipts],
                [r.token_id for r in receipts],
                [r.reading_count for r in receipts],
                [r.message_count for r in receipts],
                [r.accepted_at for r in receipts],
            )
        await conn.execute(
            _RECORD_MESSAGES,
            [o.ingest_id for o in outcomes],
            [o.station_id for o in outcomes],
            [o.chunk for o in outcomes],
            [o.persisted for o in outcomes],
            [o.dead_lettered for o in outcomes],
        )
    return result
