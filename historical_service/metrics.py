"""The historical service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_WAIT = Histogram(
    "scada_historical_job_queue_wait_seconds",
    "From the job being queued to a worker starting it, by lane.",
    ["lane"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
DURATION = Histogram(
    "scada_historical_job_duration_seconds",
    "From a worker starting a job to its end, by lane and final state.",
    ["lane", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
ROWS = Counter("scada_historical_rows_exported_total", "Result rows written, by lane.", ["lane"])
JANITOR = Counter(
    "scada_historical_janitor_total", "Expired results removed and lost jobs failed.", ["action"]
)
LIVE_WATCHERS = Gauge(
    "scada_dashboard_live_watchers", "Open live-chart streams (one per browser and station)."
)
LIVE_DROPPED = Counter(
    "scada_dashboard_live_dropped_total", "Live streams dropped because the browser fell behind."
)
