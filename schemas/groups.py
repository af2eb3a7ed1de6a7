"""Consumer-group names that components other than the group's own read.

The historical service's live charts read what the stream processors have not
stored yet (the sink group's committed offsets); ``scada lag`` and the soak
report the same groups. Each group is spelled here once.
"""

from __future__ import annotations

SINK_GROUP = "scada.stream-processors.timescaledb"
"""The stream processors writing readings into TimescaleDB."""

HISTORICAL_WORKERS_GROUP = "scada.historical.workers"
"""Prefix of the historical workers' groups: one per lane (``….interactive``, ``….bulk``)."""

ALARM_SINK_GROUP = "scada.stream-processors.alarms"
"""The stream processors storing alarm transitions in TimescaleDB."""

ALARM_EVALUATOR_GROUP = "scada.alarm-evaluator"
"""The faust application evaluating alarm rules on the readings (its app id)."""
