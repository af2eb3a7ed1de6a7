"""Topic creation and reconciliation against the real broker."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from base.errors import ServerUnavailable
from base.kafka_topics import describe_topics, effective_replication, ensure_topics
from schemas.topics import ALL_TOPICS, READINGS, Topic


def _named(topic: Topic[object], unique: str, **changes: object) -> Topic[object]:
    return replace(topic, name=f"test.{unique}.{topic.name}", **changes)  # type: ignore[arg-type]


async def _topic_config(bootstrap: str, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
        return {entry[0]: entry[1] for entry in response.resources[0][4]}
    finally:
        await admin.close()


def test_replication_is_capped_at_the_cluster_size() -> None:
    assert effective_replication(READINGS, brokers=1, override=None) == 1
    assert effective_replication(READINGS, brokers=3, override=None) == 3
    assert effective_replication(READINGS, brokers=5, override=2) == 2


async def test_topics_are_created_with_declared_partitions_and_configs(
    kafka_bootstrap: str, unique: str
) -> None:
    topics = tuple(_named(t, unique) for t in ALL_TOPICS)
    changes = await ensure_topics(kafka_bootstrap, topics)
    assert [c.action for c in changes] == ["created"] * len(ALL_TOPICS)

    partitions = await describe_topics(kafka_bootstrap, [t.name for t in topics])
    assert partitions == {t.name: t.partitions for t in topics}
    config = await _topic_config(kafka_bootstrap, topics[0].name)
    assert config["retention.ms"] == str(READINGS.retention_ms)
    assert config["cleanup.policy"] == "delete"

    again = await ensure_topics(kafka_bootstrap, topics)
    assert [c.action for c in again] == ["unchanged"] * len(ALL_TOPICS)


async def test_drifted_config_and_missing_partitions_are_reconciled(
    kafka_bootstrap: str, unique: str
) -> None:
    small = _named(READINGS, unique, partitions=3, retention_ms=60_000)
    await ensure_topics(kafka_bootstrap, (small,))

    declared = replace(small, partitions=6, retention_ms=READINGS.retention_ms)
    changes = await ensure_topics(kafka_bootstrap, (declared,))
    assert {c.action for c in changes} == {"partitions", "config"}
    assert (await describe_topics(kafka_bootstrap, [declared.name])) == {declared.name: 6}
    config = await _topic_config(kafka_bootstrap, declared.name)
    assert config["retention.ms"] == str(READINGS.retention_ms)

    # Fewer partitions declared than exist: shrinking is impossible, nothing changes.
    changes = await ensure_topics(kafka_bootstrap, (replace(declared, partitions=2),))
    assert [c.action for c in changes] == ["unchanged"]


async def test_an_unreachable_cluster_is_a_retriable_error(unique: str) -> None:
    with pytest.raises(ServerUnavailable) as caught:
        await ensure_topics("127.0.0.1:1", (_named(READINGS, unique),), request_timeout_ms=2000)
    assert caught.value.retriable
