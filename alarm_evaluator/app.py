"""The alarm evaluator: a faust-streaming application on the readings topic.

One agent reads ``scada.readings.v1`` (and a ticks topic with the same partitions) and
keeps, per station, the state of every alarm of its rules in a faust table backed by
a changelog topic (``<app id>-stations-changelog``, compacted, co-partitioned with the
readings: a station's state lives where its readings do). The rules come from the
compacted ``scada.alarm-rules.v1``, read whole by every instance. Transitions go to
``scada.alarms.v1``, keyed by station, each with a stable event id.

How the known faust hazards are closed (docs/decisions/0011-alarm-evaluator.md):

- an exception escaping an agent acks its message, so that it is committed and never
  evaluated: the stream is ``noack()`` and acked by hand after the message is fully
  handled; anything that escapes the handler ends the process (``os._exit``), before
  faust can commit past it, and a restart evaluates the message again;
- faust's flush before a commit may give up early, so a committed offset can get ahead
  of a changelog write: each transition is sent and its delivery awaited *before* the
  state that records it is written, and that write's delivery is awaited before the
  ack. A replay after a crash re-emits the same event ids (the alarm sink stores each
  once); a state already saved skips the message (its offset is in the state);
- ``concurrency > 1`` can commit past a message in flight (#606): one agent per worker;
- a timer cannot write a table (no current event): the silence check sends a tick to
  each partition this worker owns, and the agent checks that partition's stations;
- no ``exactly_once``: its transactional producer is chosen by output partition and
  breaks on topics it does not consume (faust-streaming #177, #440, #517).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from alarm_evaluator import metrics
from alarm_evaluator.evaluation import Rules, check_silence, evaluate_message, new_state
from alarm_evaluator.settings import EvaluatorSettings
from base.kafka_topics import describe_topics
from schemas.alarms import AlarmRule, AlarmTransition
from schemas.topics import Topic

log = logging.getLogger(__name__)
FATAL = 70
"""The exit status of an evaluator that met a message it could not handle (a restart
evaluates it again: nothing past it was committed)."""
SEND_TIMEOUT = 60.0
SESSION_TIMEOUT = 10.0
STATE_MAX_BYTES = 8 * 1024 * 1024
TABLE = "stations"


def ticks_topic(settings: EvaluatorSettings) -> Topic[Any]:
    """The evaluator's own clock: one tick per owned partition every few seconds."""
    readings = settings.topics.readings
    return Topic(
        name=f"{settings.app_id}-ticks",
        key="",
        values=readings.values,  # never decoded: a tick has no value
        schema_version=1,
        partitions=readings.partitions,
        replication_factor=readings.replication_factor,
        retention_ms=3_600_000,
        description="Ticks of the alarm evaluator's silence check (internal).",
    )


def changelog_topic(settings: EvaluatorSettings) -> Topic[Any]:
    """The stations table's changelog, declared by us so its settings are ours."""
    readings = settings.topics.readings
    return Topic(
        name=f"{settings.app_id}-{TABLE}-changelog",
        key="station_id",
        values=readings.values,
        schema_version=1,
        partitions=readings.partitions,
        replication_factor=readings.replication_factor,
        retention_ms=-1,
        cleanup_policy="compact",
        extra_config={"max.message.bytes": str(STATE_MAX_BYTES)},
        description="The alarm evaluator's per-station state (internal).",
    )


class Evaluator:
    """The faust app and what it holds, built for one deployment's settings."""

    def __init__(self, settings: EvaluatorSettings, replication: int) -> None:
        self.settings = settings
        self.rules = Rules()
        self.rules_ready = asyncio.Event()
        self.positioned = asyncio.Event()
        """Set once the readings partitions are back at their offsets after a rebalance."""
        topics = settings.topics
        brokers = [f"kafka://{hp.strip()}" for hp in settings.effective_kafka_bootstrap.split(",")]
        self.app = _App(
            settings.app_id,
            broker=brokers,
            store="memory://",
            topic_partitions=topics.readings.partitions,
            topic_replication_factor=replication,
            table_standby_replicas=0,
            web_enabled=False,
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            producer_request_timeout=30.0,
            broker_commit_interval=1.0,
            # A killed worker's partitions move on after this (the broker's default, 45-60 s,
            # would leave its stations unwatched that long).
            broker_session_timeout=SESSION_TIMEOUT,
            broker_heartbeat_interval=2.0,
            key_serializer="raw",
            value_serializer="raw",
            # Where faust would keep a table's files (a memory store keeps none), not the
            # working directory.
            datadir=str(settings.home / "alarm-evaluator"),
            # A station's state is one changelog record (decisions/0011: a few kB; rate
            # windows are capped): room for the largest an organisation's 500 rules make.
            producer_max_request_size=STATE_MAX_BYTES,
        )
        self.readings_name = topics.readings.name
        self.ticks_name = ticks_topic(settings).name
        self.inputs = self.app.topic(self.readings_name, self.ticks_name, allow_empty=True)
        self.ticks = self.app.topic(self.ticks_name, partitions=topics.readings.partitions)
        self.alarms = self.app.topic(topics.alarms.name)
        # Keys are the station ids' bytes as the readings carry them; values are JSON
        # bytes on the changelog (and after recovery), dicts once this worker touched them.
        self.table = self.app.Table(
            TABLE, partitions=topics.readings.partitions, key_type=bytes, value_type=bytes
        )
        self.app.agent(self.inputs, name="evaluate")(self._evaluate)
        self.app.before_rebalance = self.positioned.clear
        self.app.after_rebalance = self._rewind
        self.app.timer(settings.silence_check_seconds)(self._tick)
        self.app.task(self._load_rules)

    # -- the agent -------------------------------------------------------------------

    async def _evaluate(self, stream: faust.StreamT[Any]) -> None:
        await self.rules_ready.wait()
        manual: Any = stream.noack()  # type: ignore[attr-defined]  # faust's StreamT lacks it
        async for event in manual.events():
            message = event.message
            if message.topic == self.readings_name and not self.positioned.is_set():
                # Read before this rebalance's rewind: it comes again from the offset the
                # rewind puts its partition back at (acknowledged, so that no rebalance
                # waits on it).
                await manual.ack(event)
                continue
            try:
                await self.handle(message)
            except Exception:
                log.exception(
                    "cannot evaluate %s[%d]@%d; exiting so that nothing past it is committed",
                    event.message.topic,
                    event.message.partition,
                    event.message.offset,
                )
                logging.shutdown()
                os._exit(FATAL)
            await manual.ack(event)

    async def handle(self, message: Any) -> None:
        if message.topic == self.ticks_name:
            await self._check_partition(message.partition)
            return
        now = datetime.now(UTC)
        if (
            message.timestamp
            and message.timestamp < time.time() - self.settings.live_window_seconds
        ):
            metrics.MESSAGES.labels(outcome="history").inc()
            return  # accepted long ago (a catch-up): history, not decoded at all
        station: bytes = message.key or b""
        state = self._state(station)
        if state is not None and state.get("off", -1) >= message.offset:
            metrics.MESSAGES.labels(outcome="replayed").inc()
            return  # its state is already saved (a replay after a crash)
        try:
            readings = self.settings.topics.readings.deserialize(message.value or b"")
            rules = self.rules.for_station(readings.org_id, readings.station_id)
            if not rules and state is None:
                metrics.MESSAGES.labels(outcome="unowned").inc()
                return
            # On a copy: what a rule cannot evaluate leaves the station's state as it was.
            state = _copy(state) if state is not None else new_state(readings.org_id)
            transitions = evaluate_message(
                state, rules, readings, now, self.settings.live_window_seconds
            )
        except Exception:
            # The same message would fail the same way again: a crash would loop on it.
            # It is stored by the sink all the same; the evaluator goes on without it.
            log.exception(
                "%s[%d]@%d not evaluated", message.topic, message.partition, message.offset
            )
            metrics.MESSAGES.labels(outcome="failed").inc()
            return
        metrics.EVALUATION_LAG.observe(max(0.0, (now - readings.accepted_at).total_seconds()))
        metrics.MESSAGES.labels(outcome="evaluated").inc()
        state["p"] = message.partition
        state["off"] = message.offset
        await self._emit(transitions)
        await self._save(station, state)

    async def _check_partition(self, partition: int) -> None:
        now = datetime.now(UTC)
        metrics.STATIONS.set(len(self.table.data))
        for station in list(self.table.data.keys()):
            state = self._state(station)
            if state is None or state.get("p") != partition:
                continue
            rules = self.rules.for_station(state["org"], station.decode())
            try:
                state = _copy(state)
                transitions = check_silence(state, rules, station.decode(), now)
            except Exception:
                log.exception("silence of %r not checked", station)
                continue
            if transitions:
                await self._emit(transitions)
                await self._save(station, state)

    async def _emit(self, transitions: list[AlarmTransition]) -> None:
        """Publish and wait for every transition's acknowledgement (acks=all)."""
        pending = [
            await self.alarms.send(key=t.station_id.encode(), value=t.model_dump_json().encode())
            for t in transitions
        ]
        for future, transition in zip(pending, transitions, strict=True):
            await asyncio.wait_for(future, SEND_TIMEOUT)
            metrics.TRANSITIONS.labels(type=transition.type, severity=transition.severity).inc()

    def _state(self, station: bytes) -> dict[str, Any] | None:
        value = self.table.data.get(station)
        if isinstance(value, bytes | bytearray):  # as recovered from the changelog
            value = orjson.loads(value)
            self.table.data[station] = value
        return value

    async def _save(self, station: bytes, state: dict[str, Any]) -> None:
        """Write the station's state to the changelog and wait until Kafka has it."""
        future = self.table.send_changelog(
            state["p"], station, orjson.dumps(state), key_serializer="raw", value_serializer="raw"
        )
        self.table.data[station] = state
        await asyncio.wait_for(future, SEND_TIMEOUT)

    async def _rewind(self) -> None:
        """Once a rebalance is over, put each readings partition back at its committed
        offset (or its start): faust paused them while it recovered the table, aiokafka
        dropped what it had fetched for them without moving back, and faust's own seek
        skips offset 0 (``if offset and offset > 0``). Until this is done the agent leaves
        readings alone (``positioned``); what it read meanwhile comes again.

        A failure here ends the process: going on would lose what was dropped.
        """
        consumer = self.app.consumer
        mine = [tp for tp in consumer.assignment() if tp.topic == self.readings_name]
        try:
            committed = await _committed(self.settings, [TopicPartition(*tp) for tp in mine])
            earliest = await consumer.earliest_offsets(*mine)
            for tp in mine:
                offset = committed.get((tp.topic, tp.partition))
                await consumer.seek(tp, offset if offset is not None else earliest.get(tp, 0))
            log.info("rebalanced: %d readings partitions at their committed offsets", len(mine))
        except Exception:
            log.exception("could not put the readings partitions back at their offsets; exiting")
            logging.shutdown()
            os._exit(FATAL)
        self.positioned.set()

    # -- the clock and the rules ---------------------------------------------------

    async def _tick(self) -> None:
        if self.app.rebalancing or not self.rules_ready.is_set():
            return
        try:
            for tp in self.app.assignor.assigned_actives():
                if tp.topic == self.readings_name:
                    await self.ticks.send(partition=tp.partition, value=b"{}")
        except Exception:
            log.exception("silence check ticks not sent; the next round tries again")

    async def _load_rules(self) -> None:
        """Every rule, from the start of the compacted rules topic, then each change."""
        topic = self.settings.topics.alarm_rules
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.settings.effective_kafka_bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id=f"{self.settings.app_id}-rules",
            )
            try:
                await consumer.start()
                partitions = [
                    TopicPartition(topic.name, p)
                    for p in sorted(consumer.partitions_for_topic(topic.name) or {0})
                ]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                ends = await consumer.end_offsets(partitions)
                while True:
                    batches = await consumer.getmany(timeout_ms=500)
                    for records in batches.values():
                        for record in records:
                            self._put_rule(record.key, record.value, topic)
                    if not self.rules_ready.is_set() and await _caught_up(consumer, ends):
                        log.info("rules loaded: %d in force", len(self.rules.by_key))
                        self.rules_ready.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the rules failed; reading them again in 5 s")
                await asyncio.sleep(5)
            finally:
                await consumer.stop()

    def _put_rule(self, key: bytes | None, value: bytes | None, topic: Topic[AlarmRule]) -> None:
        name = (key or b"").decode(errors="replace")
        if value is None:
            self.rules.put(name, None)
        else:
            try:
                self.rules.put(name, topic.deserialize(value))
            except Exception as exc:  # a rule written by a newer version, say
                log.warning("rule %s not understood (%r); left out", name, exc)
                self.rules.put(name, None)
        metrics.RULES.set(len(self.rules.by_key))


async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


async def commit_uncommitted(settings: EvaluatorSettings, topics: list[str]) -> None:
    """Give every input partition the group never committed a commit at its beginning.

    That is where ``consumer_auto_offset_reset="earliest"`` would start it anyway; but
    faust pauses the input partitions while it recovers the table, aiokafka drops what
    it had fetched for a paused partition without moving it back, and faust then seeks
    only partitions that have a commit. A partition without one lost every record that
    arrived before the recovery ended (the SIGKILL test, one run in two). With a commit,
    faust's seek after recovery puts it back. A commit from outside the group is taken
    only while the group has no members: after a SIGKILL, once the dead member's
    session has expired (``broker_session_timeout``), so this waits for that.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.effective_kafka_bootstrap,
        group_id=settings.app_id,
        enable_auto_commit=False,
        client_id=f"{settings.app_id}-offsets",
    )
    await consumer.start()
    try:
        counts = await describe_topics(settings.effective_kafka_bootstrap, topics)
        partitions = [TopicPartition(t, p) for t in topics for p in range(counts.get(t, 0))]
        missing = [tp for tp in partitions if await consumer.committed(tp) is None]
        if not missing:
            return
        consumer.assign(missing)
        start = await consumer.beginning_offsets(missing)
        deadline = time.monotonic() + 3 * SESSION_TIMEOUT
        while True:
            try:
                await consumer.commit({tp: start[tp] for tp in missing})
                log.info(
                    "%d input partitions never committed: committed at their start", len(missing)
                )
                return
            except KafkaError as exc:
                if time.monotonic() > deadline:
                    log.warning("could not commit the input partitions' starts (%r)", exc)
                    return
                await asyncio.sleep(1)
    finally:
        await consumer.stop()


_HOOKS: set[asyncio.Future[Any]] = set()


class _App(faust.App):
    """faust's App, with a hook once each rebalance (and its recovery) is over."""

    after_rebalance: Any = None
    before_rebalance: Any = None

    def on_rebalance_start(self) -> None:
        super().on_rebalance_start()
        if self.before_rebalance is not None:
            self.before_rebalance()

    def on_rebalance_end(self) -> None:
        super().on_rebalance_end()
        if self.after_rebalance is not None:
            hook = asyncio.ensure_future(self.after_rebalance())
            _HOOKS.add(hook)  # held until done: a task nobody holds may be collected
            hook.add_done_callback(_HOOKS.discard)


async def _committed(
    settings: EvaluatorSettings, partitions: list[TopicPartition]
) -> dict[tuple[str, int], int | None]:
    """The evaluator group's committed offsets (None where it never committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.effective_kafka_bootstrap)
    try:
        await admin.start()
        found = await admin.list_consumer_group_offsets(settings.app_id, partitions=partitions)
    finally:
        await admin.close()
    return {
        (tp.topic, tp.partition): (meta.offset if meta.offset >= 0 else None)
        for tp, meta in found.items()
    }


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a station's state (plain JSON)."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(state))
    return copied
