"""Create or reconcile the declared topics on a cluster, idempotently.

Every service calls :func:`ensure_topics` at start. Missing topics are
created; an existing topic gets more partitions if it has fewer than
declared (never fewer: that would move keys) and its declared configs
(retention, cleanup policy, ...) if they drifted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from base.errors import ServerUnavailable
from schemas.topics import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicChange:
    """What :func:`ensure_topics` did to one topic."""

    topic: str
    action: str  # "created" | "partitions" | "config" | "unchanged"
    detail: str = ""


def effective_replication(topic: Topic[Any], brokers: int, override: int | None) -> int:
    """The replication factor to use: the override, else the declaration, capped at the cluster."""
    wanted = override or topic.replication_factor
    return max(1, min(wanted, brokers))


async def ensure_topics(
    bootstrap: str,
    topics: tuple[Topic[Any], ...],
    *,
    replication_override: int | None = None,
    request_timeout_ms: int = 15_000,
) -> list[TopicChange]:
    """Bring ``topics`` on the cluster at ``bootstrap`` in line with their declarations."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
    try:
        await admin.start()
    except KafkaError as exc:
        await admin.close()
        raise ServerUnavailable(f"Kafka at {bootstrap} did not answer: {exc}") from exc
    try:
        return await _reconcile(admin, topics, replication_override)
    finally:
        await admin.close()


async def cluster_size(bootstrap: str, request_timeout_ms: int = 15_000) -> int:
    """How many brokers the cluster at ``bootstrap`` has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
    try:
        await admin.start()
        return len((await admin.describe_cluster())["brokers"])
    except KafkaError as exc:
        raise ServerUnavailable(f"Kafka at {bootstrap} did not answer: {exc}") from exc
    finally:
        await admin.close()


async def _reconcile(
    admin: AIOKafkaAdminClient, topics: tuple[Topic[Any], ...], override: int | None
) -> list[TopicChange]:
    brokers = len((await admin.describe_cluster())["brokers"])
    existing = {t["topic"]: t for t in await admin.describe_topics([t.name for t in topics])}
    changes: list[TopicChange] = []
    to_create = []
    for topic in topics:
        described = existing.get(topic.name)
        if described is None or described["error_code"] != 0:
            rf = effective_replication(topic, brokers, override)
            to_create.append(
                NewTopic(
                    topic.name,
                    num_partitions=topic.partitions,
                    replication_factor=rf,
                    topic_configs=topic.config(replication_factor=rf),
                )
            )
            changes.append(TopicChange(topic.name, "created", f"{topic.partitions}p rf={rf}"))
        else:
            changes.extend(await _reconcile_existing(admin, topic, described))
    if to_create:
        response = await admin.create_topics(to_create)
        for name, code, *rest in response.topic_errors:
            error = for_code(code)
            if code and error is not TopicAlreadyExistsError:  # a racing service created it
                raise ServerUnavailable(f"could not create topic {name}: {error.__name__} {rest}")
        await _wait_until_visible(admin, [t.name for t in to_create])
    for change in changes:
        if change.action != "unchanged":
            log.info("topic %s %s %s", change.topic, change.action, change.detail)
    return changes


async def _wait_until_visible(
    admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30.0
) -> None:
    """Wait until the broker's metadata shows ``names`` with a leader for every partition.

    The controller acknowledges a creation before every broker's metadata cache
    has it; a producer or a second reconcile right after would not see the topic.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        ready = {
            t["topic"]
            for t in described
            if t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if ready >= set(names):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise ServerUnavailable(f"topics {sorted(set(names) - ready)} did not appear in time")
        await asyncio.sleep(0.1)


async def _reconcile_existing(
    admin: AIOKafkaAdminClient, topic: Topic[Any], described: dict[str, Any]
) -> list[TopicChange]:
    changes = []
    partitions = len(described["partitions"])
    rf = len(described["partitions"][0]["replicas"]) if partitions else 1
    if partitions < topic.partitions:
        await admin.create_partitions({topic.name: NewPartitions(total_count=topic.partitions)})
        changes.append(TopicChange(topic.name, "partitions", f"{partitions} -> {topic.partitions}"))
    elif partitions > topic.partitions:
        log.warning(
            "topic %s has %d partitions, more than the %d declared; leaving it (shrinking is "
            "impossible)",
            topic.name,
            partitions,
            topic.partitions,
        )

    wanted = topic.config(replication_factor=rf)
    resource = ConfigResource(ConfigResourceType.TOPIC, topic.name)
    (response,) = await admin.describe_configs([resource])
    actual = {name: value for name, value, *_ in response.resources[0][4]}
    drift = {k: v for k, v in wanted.items() if actual.get(k) != v}
    if drift:
        # AlterConfigs replaces the topic's whole dynamic config: the declaration is the truth.
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name, wanted)])
        changes.append(
            TopicChange(topic.name, "config", ", ".join(f"{k}={v}" for k, v in drift.items()))
        )
    return changes or [TopicChange(topic.name, "unchanged")]


async def describe_topics(bootstrap: str, names: list[str]) -> dict[str, int]:
    """Partition counts of ``names`` (missing topics are left out).

    Every topic is described and the wanted ones picked: a metadata request naming a
    missing topic would create it on a cluster that auto-creates topics (aiokafka's
    request allows it), with the broker's defaults rather than our declaration.
    """
    wanted = set(names)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        topics = await admin.describe_topics()
        return {
            t["topic"]: len(t["partitions"])
            for t in topics
            if t["error_code"] == 0 and t["topic"] in wanted
        }
    except KafkaError as exc:
        raise ServerUnavailable(f"Kafka at {bootstrap} did not answer: {exc}") from exc
    finally:
        await admin.close()
