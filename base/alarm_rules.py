"""Saving an organisation's alarm rule: the ``alarms.rules`` row (the truth) and its
record on the compacted rules topic (what the evaluators read), together. The API and
``scada alarms rules`` both save through here."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from base.errors import ServerUnavailable
from base.storage.alarms import delete_rule, put_rule, rules_of
from schemas.alarms import AlarmRule, AlarmRuleSpec, rule_key
from schemas.topics import Topic

PUBLISH_TIMEOUT = 5.0
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('alarms.rules'))"
"""Saves, removals and the republishing of them all take turns: a republished snapshot
never overwrites a change made while it was read."""


class RuleNotPublished(ServerUnavailable):
    """Kafka did not take the rule: it is not saved either."""


async def save_rule(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topic: Topic[AlarmRule],
    org_id: str,
    rule_id: str,
    spec: AlarmRuleSpec,
) -> AlarmRule:
    """Create or replace the rule, published before its row commits (a rule Kafka did not
    take is not saved); :class:`ValueError` past the organisation's limit."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_LOCK)
        rule = await put_rule(conn, org_id, rule_id, spec)
        await publish(producer, topic, rule.key, rule)
    return rule


async def remove_rule(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    topic: Topic[AlarmRule],
    org_id: str,
    rule_id: str,
) -> bool:
    """Delete the rule and publish its tombstone; False if there was no such row.

    The tombstone goes out either way: a rule the topic kept without a row (its save
    failed after it was published) is removed from the evaluators too.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_LOCK)
        existed = await delete_rule(conn, org_id, rule_id)
        await publish(producer, topic, rule_key(org_id, rule_id), None)
    return existed


async def publish_all(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, topic: Topic[AlarmRule]
) -> int:
    """Every rule of the database onto the topic: one that lost a change gets it back."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_LOCK)
        found = await rules_of(conn)
        for rule in found:
            await publish(producer, topic, rule.key, rule)
    return len(found)


async def publish(
    producer: AIOKafkaProducer, topic: Topic[AlarmRule], key: str, rule: AlarmRule | None
) -> None:
    value = None if rule is None else topic.serialize(rule)
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await producer.send_and_wait(topic.name, value, key=key.encode())
    except (TimeoutError, KafkaError) as exc:
        raise RuleNotPublished(f"Kafka did not take the rule {key}: {exc!r}") from None
