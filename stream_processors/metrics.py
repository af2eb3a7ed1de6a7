"""The stream processors' Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_READINGS = Histogram(
    "scada_sink_batch_readings",
    "Readings per database write.",
    buckets=(10, 100, 500, 1000, 2500, 5000, 10000, 20000, 50000),
)
DB_WRITE_SECONDS = Histogram(
    "scada_sink_db_write_seconds",
    "One batch's database transaction (COPY, insert, rollups, bookkeeping).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
READINGS_STORED = Counter(
    "scada_sink_readings_stored_total", "Readings (station, ts rows) newly inserted."
)
READINGS_DUPLICATE = Counter(
    "scada_sink_readings_duplicate_total", "Readings already stored (re-sent or redelivered)."
)
DEAD_LETTERED = Counter(
    "scada_sink_dead_lettered_total",
    "Records sent to the dead-letter topic, by reason.",
    ["reason"],
)
# Every reason exists from the start at 0: a counter born at 1 shows no increase, and the
# first dead letter of a process would never fire ReadingsDeadLettered.
DEAD_LETTER_REASONS = (
    "invalid_message",
    "database_refused",
    "unstorable",
    "invalid_alarm",
    "refused_alarm",
)
for _reason in DEAD_LETTER_REASONS:
    DEAD_LETTERED.labels(reason=_reason)
DB_RETRIES = Counter(
    "scada_sink_db_retries_total", "Batch writes retried because the database was unavailable."
)
COMMITS = Counter("scada_sink_offset_commits_total", "Offset commits, by outcome.", ["outcome"])
ALARM_EVENTS = Counter(
    "scada_alarm_sink_events_total",
    "Alarm transitions read by the alarm sink, by type and outcome (stored, or a duplicate "
    "already stored).",
    ["type", "outcome"],
)
