"""Every Kafka topic of the pipeline, declared once.

A :class:`Topic` carries its name, what its key is, the model of its values,
and how it is created (partitions, replication, retention, cleanup policy).
``ALL_TOPICS`` is what services reconcile against the cluster at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from schemas.alarms import AlarmRule, AlarmTransition
from schemas.historical import HISTORICAL_JOB_EVENT, RunHistoricalQuery
from schemas.readings import ReadingDeadLettered, StationReadingsAccepted

T = TypeVar("T")

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


@dataclass(frozen=True)
class Topic(Generic[T]):
    """A topic's name, key, value model and creation config."""

    name: str
    key: str
    """What the record key holds (UTF-8), e.g. ``station_id``."""
    values: TypeAdapter[T]
    schema_version: int
    partitions: int
    replication_factor: int
    retention_ms: int
    cleanup_policy: str = "delete"
    extra_config: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def config(self, *, replication_factor: int) -> dict[str, str]:
        """Topic-level configs to create or reconcile, for a given effective replication."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            # Writes with acks=all survive one broker loss only if two replicas took them.
            "min.insync.replicas": "2" if replication_factor >= 3 else "1",
            **self.extra_config,
        }

    def serialize(self, value: T) -> bytes:
        return self.values.dump_json(value)

    def deserialize(self, data: bytes) -> T:
        return self.values.validate_json(data)

    def json_schema(self) -> dict[str, Any]:
        schema = self.values.json_schema()
        schema["$id"] = f"urn:scada-pipeline:topic:{self.name}"
        schema["x-kafka-topic"] = self.name
        schema["x-kafka-key"] = self.key
        schema["x-schema-version"] = self.schema_version
        if self.description:
            schema.setdefault("description", self.description)
        return schema


READINGS: Topic[StationReadingsAccepted] = Topic(
    name="scada.readings.v1",
    key="station_id",
    values=TypeAdapter(StationReadingsAccepted),
    schema_version=1,
    partitions=12,
    replication_factor=3,
    retention_ms=7 * _DAY_MS,
    # One message may carry a few thousand readings of a station.
    extra_config={"max.message.bytes": str(8 * 1024 * 1024), "compression.type": "producer"},
    description="Accepted station readings; one station's readings stay ordered.",
)

READINGS_DLQ: Topic[ReadingDeadLettered] = Topic(
    name="scada.readings.dlq.v1",
    key="station_id",
    values=TypeAdapter(ReadingDeadLettered),
    schema_version=1,
    partitions=3,
    replication_factor=3,
    retention_ms=30 * _DAY_MS,
    extra_config={"max.message.bytes": str(16 * 1024 * 1024)},
    description="Readings that could never be stored, with the reason and the original payload.",
)

HISTORICAL_REQUESTS: Topic[RunHistoricalQuery] = Topic(
    name="scada.historical.requests.v1",
    key="job_id",
    values=TypeAdapter(RunHistoricalQuery),
    schema_version=1,
    partitions=6,
    replication_factor=3,
    retention_ms=1 * _DAY_MS,
    description="Commands to run a historical query; the API publishes, workers consume.",
)

HISTORICAL_EVENTS: Topic[Any] = Topic(
    name="scada.historical.events.v1",
    key="job_id",
    values=HISTORICAL_JOB_EVENT,
    schema_version=1,
    partitions=6,
    replication_factor=3,
    retention_ms=1 * _DAY_MS,
    description="Job lifecycle events: queued, progress, completed, failed, cancelled.",
)

ALARM_RULES: Topic[AlarmRule] = Topic(
    name="scada.alarm-rules.v1",
    key="org_id/rule_id",
    values=TypeAdapter(AlarmRule),
    schema_version=1,
    partitions=1,
    replication_factor=3,
    retention_ms=-1,
    cleanup_policy="compact",
    # A deleted rule's tombstone stays a day, so that an evaluator catching up sees it.
    extra_config={"delete.retention.ms": str(_DAY_MS), "min.compaction.lag.ms": "0"},
    description="Every organisation's alarm rules, the latest per key (a tombstone: deleted). "
    "The database's alarms.rules is the truth; the API publishes each change here and "
    "republishes them all at start, and every evaluator reads the whole topic.",
)

ALARMS: Topic[AlarmTransition] = Topic(
    name="scada.alarms.v1",
    key="station_id",
    values=TypeAdapter(AlarmTransition),
    schema_version=1,
    partitions=6,
    replication_factor=3,
    retention_ms=7 * _DAY_MS,
    description="Alarm transitions (raised, cleared by the evaluator; acknowledged, shelved, "
    "unshelved by operators), each with a stable event_id; one station's stay ordered.",
)

ALL_TOPICS: tuple[Topic[Any], ...] = (
    READINGS,
    READINGS_DLQ,
    HISTORICAL_REQUESTS,
    HISTORICAL_EVENTS,
    ALARM_RULES,
    ALARMS,
)


@dataclass(frozen=True)
class TopicSet:
    """The pipeline's topics as one deployment names them.

    A non-empty ``namespace`` prefixes every name (``test-1f2e.scada.readings.v1``),
    so that several environments, or tests, share one cluster without meeting.
    """

    readings: Topic[StationReadingsAccepted]
    readings_dlq: Topic[ReadingDeadLettered]
    historical_requests: Topic[RunHistoricalQuery]
    historical_events: Topic[Any]
    alarm_rules: Topic[AlarmRule]
    alarms: Topic[AlarmTransition]

    @classmethod
    def for_namespace(cls, namespace: str = "") -> TopicSet:
        def named(topic: Topic[T]) -> Topic[T]:
            return replace(topic, name=f"{namespace}.{topic.name}") if namespace else topic

        return cls(
            readings=named(READINGS),
            readings_dlq=named(READINGS_DLQ),
            historical_requests=named(HISTORICAL_REQUESTS),
            historical_events=named(HISTORICAL_EVENTS),
            alarm_rules=named(ALARM_RULES),
            alarms=named(ALARMS),
        )

    def all(self) -> tuple[Topic[Any], ...]:
        return (
            self.readings,
            self.readings_dlq,
            self.historical_requests,
            self.historical_events,
            self.alarm_rules,
            self.alarms,
        )
