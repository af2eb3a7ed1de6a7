"""The alarm evaluator's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "scada_alarm_evaluator_messages_total",
    "Readings messages read, by outcome (evaluated; history: older than the live window; "
    "replayed: already evaluated; unowned: no rule for the station; failed: a rule could "
    "not be evaluated on it, logged and passed over).",
    ["outcome"],
)
TRANSITIONS = Counter(
    "scada_alarm_evaluator_transitions_total",
    "Alarm transitions published, by type and severity.",
    ["type", "severity"],
)
EVALUATION_LAG = Histogram(
    "scada_alarm_evaluator_lag_seconds",
    "From a message's acceptance by the gateway to its evaluation.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RULES = Gauge("scada_alarm_evaluator_rules", "Alarm rules in force (all organisations).")
STATIONS = Gauge(
    "scada_alarm_evaluator_stations", "Stations with state on this evaluator's partitions."
)
