"""The message contract: topic declarations, models, JSON Schema export (pure logic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.export import export_json_schemas
from schemas.historical import HistoricalJobCancelled, HistoricalJobProgressed
from schemas.readings import Reading, StationReadingsAccepted
from schemas.topics import ALARM_RULES, ALL_TOPICS, HISTORICAL_EVENTS, READINGS


def _accepted(**overrides: object) -> StationReadingsAccepted:
    fields: dict[str, object] = {
        "ingest_id": uuid4(),
        "org_id": "bmkg",
        "station_id": "AWS-001",
        "chunk": 0,
        "accepted_at": datetime.now(UTC),
        "readings": [{"ts": "2026-11-23T08:00:00+07:00", "values": {"temperature": 27.5}}],
    }
    return StationReadingsAccepted.model_validate({**fields, **overrides})


def test_the_topics_are_declared_once_with_their_spec_names() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert names == [
        "scada.readings.v1",
        "scada.readings.dlq.v1",
        "scada.historical.requests.v1",
        "scada.historical.events.v1",
        "scada.alarm-rules.v1",
        "scada.alarms.v1",
    ]
    assert READINGS.key == "station_id"
    assert READINGS.partitions == 12


def test_every_topic_config_names_retention_and_cleanup() -> None:
    for topic in ALL_TOPICS:
        config = topic.config(replication_factor=3)
        if topic is ALARM_RULES:  # the latest rule per key, kept for ever
            assert config["cleanup.policy"] == "compact"
            assert config["retention.ms"] == "-1"
        else:
            assert config["cleanup.policy"] == "delete"
            assert int(config["retention.ms"]) > 0
        assert config["min.insync.replicas"] == "2"
        assert topic.config(replication_factor=1)["min.insync.replicas"] == "1"


def test_readings_message_round_trips_through_its_topic() -> None:
    message = _accepted()
    decoded = READINGS.deserialize(READINGS.serialize(message))
    assert decoded == message
    assert decoded.schema_version == 1
    assert decoded.readings[0].ts.utcoffset() is not None


def test_historical_events_decode_to_their_own_type() -> None:
    job = uuid4()
    now = datetime.now(UTC)
    events = [
        HistoricalJobProgressed(
            job_id=job, user_id="u1", occurred_at=now, progress=0.5, rows_done=10
        ),
        HistoricalJobCancelled(job_id=job, user_id="u1", occurred_at=now, rows_done=10),
    ]
    decoded = [HISTORICAL_EVENTS.deserialize(HISTORICAL_EVENTS.serialize(e)) for e in events]
    assert [type(e) for e in decoded] == [HistoricalJobProgressed, HistoricalJobCancelled]


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        ({"ts": "2026-11-23T08:00:00", "values": {"t": 1}}, "ts"),  # no offset
        ({"ts": "2026-11-23T08:00:00Z", "values": {"bad name": 1}}, "values"),
        ({"ts": "2026-11-23T08:00:00Z", "values": {"t": "warm"}}, "values"),
    ],
)
def test_reading_rejects_what_the_contract_forbids(reading: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Reading.model_validate(reading)
    assert caught.value.errors()[0]["loc"][0] == field


def test_station_id_pattern_is_enforced() -> None:
    with pytest.raises(ValidationError):
        _accepted(station_id="x" * 65)


def test_export_writes_one_json_schema_per_topic(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{t.name}.schema.json" for t in ALL_TOPICS)
    schema = json.loads((tmp_path / "scada.readings.v1.schema.json").read_text())
    assert schema["x-kafka-key"] == "station_id"
    assert schema["x-schema-version"] == 1
    assert "schema_version" in schema["properties"]
    assert set(schema["required"]) >= {"ingest_id", "station_id", "readings"}
