"""``scada lag`` and ``scada dlq``: lag and dead letters read off the real Kafka."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from base.kafka_operations import consumer_lag, dead_letters, purge, replay
from base.kafka_topics import ensure_topics
from schemas.readings import Reading, StationReadingsAccepted
from schemas.readings_codec import decode
from schemas.topics import TopicSet
from stream_processors.dead_letters import dead_letter_for_message
from tests.backends import Backends


async def test_lag_counts_what_a_group_has_not_consumed_and_how_old_it_is(
    backends: Backends, producer: AIOKafkaProducer, unique: str
) -> None:
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, topics.all())
    tp = TopicPartition(topics.readings.name, 0)
    for _ in range(5):
        await producer.send_and_wait(tp.topic, b"{}", key=b"k", partition=0)
    group = f"{unique}.group"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=backends.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: 2})
    finally:
        await consumer.stop()

    rows = await consumer_lag(backends.kafka_bootstrap, [group])
    # Every partition of the topic is reported; only partition 0 was ever committed.
    (row,) = [r for r in rows if r.committed is not None]
    assert (row.topic, row.partition, row.committed, row.end, row.messages) == (
        tp.topic,
        0,
        2,
        5,
        3,
    )
    assert 0 <= row.seconds < 120

    shown = backends.scada("lag", "--group", group, "--json", namespace=unique)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)[0]["messages"] == 3


async def test_dead_letters_are_listed_replayed_when_valid_and_purged(
    backends: Backends, producer: AIOKafkaProducer, consumer_factory: Any, unique: str
) -> None:
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, topics.all())
    now = datetime.now(UTC)
    original = StationReadingsAccepted(
        ingest_id=uuid4(),
        org_id="o",
        station_id=f"{unique}-s",
        chunk=0,
        accepted_at=now,
        readings=[Reading(ts=now, values={"temperature": 20.5})],
    )
    # As the sink writes one when the database refuses a message it read off the topic.
    valid = dead_letter_for_message(
        decode(topics.readings.serialize(original)),
        topics.readings.name,
        "database refused it: disk full",
    )
    broken = valid.model_copy(update={"reason": "not JSON", "payload": "{{{"})
    dlq = topics.readings_dlq
    for letter in (valid, broken):
        await producer.send_and_wait(dlq.name, dlq.serialize(letter), partition=0)

    letters = await dead_letters(backends.kafka_bootstrap, dlq)
    assert [d.letter.reason for d in letters] == [valid.reason, broken.reason]
    listed = backends.scada("dlq", "list", "--json", namespace=unique)
    assert listed.returncode == 0, listed.stderr
    assert [d["position"] for d in json.loads(listed.stdout)] == ["0:0", "0:1"]

    sent = await replay(backends.kafka_bootstrap, topics.readings, letters)
    assert sent == ["0:0"]  # the broken one would only be dead-lettered again
    consumer = await consumer_factory(topics.readings.name)
    record = await consumer.getone()
    assert StationReadingsAccepted.model_validate_json(record.value) == original
    assert record.key == original.station_id.encode()

    assert await purge(backends.kafka_bootstrap, dlq) == 2
    assert await dead_letters(backends.kafka_bootstrap, dlq) == []
