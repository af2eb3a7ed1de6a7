"""Live readings for the dashboard, straight from the readings topic.

One consumer per API process, outside any consumer group (it commits nothing
and takes no partitions from the stream processors). It reads only while
someone watches, and only the partitions the watched stations hash to, with
the producer's own partitioner: with nobody watching it costs nothing, and a
dashboard open during a backfill does not make the API decode the whole topic.

A partition newly taken starts ``lookback`` seconds back (``offsets_for_times``),
so a new watcher sees the last minute too, or further back at the stream
processors' committed offset if that is older: what they have not stored yet
is not in the dashboard's database snapshot either, so it must come from here
(never further back than the widest chart watched, plus the 5 minutes a
reading may be ahead of its acceptance). A fetch becomes one frame per station,
however many messages it read. The dashboard merges the two by timestamp.
Positions of partitions already taken are kept when the set changes, so
nobody watching misses or repeats a message; a station newly watched on a
partition already taken gets no lookback (its database snapshot is all it has
of what came before, so readings a lagging sink has not stored are missing
from that chart until it is opened again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from base.transient import cancel_and_wait
from historical_service.metrics import LIVE_DROPPED, LIVE_WATCHERS
from schemas.readings_codec import decode
from schemas.topics import Topic

log = logging.getLogger(__name__)

QUEUE_SIZE = 256  # messages a slow browser may fall behind before it is dropped


def partition_for(station_id: str, partitions: int) -> int:
    """The partition the gateway's producer writes ``station_id`` to (Kafka's default)."""
    return int(murmur2(station_id.encode()) & 0x7FFFFFFF) % partitions


Readings = Iterable[tuple[datetime, dict[str, float | None]]]


def _offset(found: Any, end: int) -> int:
    """An ``offsets_for_times`` answer, or the end when nothing is that recent."""
    return end if found is None else int(found.offset)


def live_frame(station_id: str, readings: Readings) -> bytes:
    """``{"station_id", "readings": [[unix seconds, {sensor: value}], ...]}``: the chart's input."""
    return orjson.dumps(
        {"station_id": station_id, "readings": [[ts.timestamp(), v] for ts, v in readings]}
    )


class Watch:
    """One browser's view of one station: frames arrive on ``queue``; ``None`` means dropped.

    ``ready`` is set once the feed reads the station's partition: every message
    produced after that reaches ``queue``.
    """

    def __init__(self, station_id: str, window: float) -> None:
        self.station_id = station_id
        self.window = window  # seconds: older readings are of no use to this chart
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_SIZE)
        self.ready = asyncio.Event()


class LiveFeed:
    def __init__(
        self,
        bootstrap: str,
        topic: Topic[Any],
        producer: AIOKafkaProducer,
        *,
        sink_group: str | None = None,
        lookback: float = 60.0,
        max_lookback: float = 3900.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._producer = producer
        self._topic = topic
        self._sink_group = sink_group
        self._lookback = lookback
        self._max_lookback = max_lookback
        self._admin: AIOKafkaAdminClient | None = None
        self._watches: dict[str, set[Watch]] = {}
        self._changed = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id="historical-api-live",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            isolation_level="read_committed",
        )
        await self._consumer.start()
        if self._sink_group is not None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
            await self._admin.start()
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        try:
            if self._consumer is not None:
                await self._consumer.stop()
        finally:
            if self._admin is not None:
                await self._admin.close()

    def watch(self, station_id: str, window: float) -> Watch:
        """Frames of ``station_id``'s readings no older than ``window`` seconds, from now on."""
        watch = Watch(station_id, window)
        self._watches.setdefault(station_id, set()).add(watch)
        LIVE_WATCHERS.inc()
        self._changed.set()
        return watch

    def unwatch(self, watch: Watch) -> None:
        watchers = self._watches.get(watch.station_id)
        if watchers is not None and watch in watchers:
            watchers.discard(watch)
            LIVE_WATCHERS.dec()
            if not watchers:
                del self._watches[watch.station_id]
                self._changed.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except Exception:  # e.g. the broker went away: keep the watchers, start over
                log.exception("live feed failed; starting over in 2 s")
                self._changed.set()
                await asyncio.sleep(2)

    async def _follow(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        taken: set[TopicPartition] = set()
        while True:
            if self._changed.is_set():
                self._changed.clear()
                taken = await self._take(consumer, taken)
            if not taken:
                await self._changed.wait()
                continue
            batches = await consumer.getmany(*taken, timeout_ms=250, max_records=500)
            # One frame per station per fetch: a partition read from minutes back (a lagging
            # sink's unstored part) must not become hundreds of frames for a 256-frame queue.
            fresh: dict[str, list[tuple[datetime, dict[str, float | None]]]] = {}
            for records in batches.values():
                for record in records:
                    self._collect(record.key, record.value, fresh)
            for station, readings in fresh.items():
                self._deliver(station, readings)

    async def _take(
        self, consumer: AIOKafkaConsumer, taken: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Assign the partitions the watched stations need, keeping positions already held."""
        try:  # the producer's view of the topic: what the gateway's producer hashes over
            partitions = await asyncio.wait_for(self._producer.partitions_for(self._topic.name), 5)
        except (TimeoutError, KafkaError):
            self._changed.set()  # the topic or the broker is not there yet: look again shortly
            await asyncio.sleep(1)
            return taken
        # Only the watches counted here are served once this returns; any added while
        # it awaits set ``_changed`` again and are counted on the next round.
        counted = [w for watchers in self._watches.values() for w in watchers]
        wanted = {
            TopicPartition(self._topic.name, partition_for(s, len(partitions)))
            for s in self._watches
        }
        if wanted == taken:
            for watch in counted:
                watch.ready.set()
            return taken
        kept = {tp: await consumer.position(tp) for tp in taken & wanted}
        consumer.assign(list(wanted))
        for tp, offset in kept.items():
            consumer.seek(tp, offset)
        new = wanted - taken
        if new:  # resolved now, not lazily at the next fetch: what follows must not be missed
            for tp, offset in (await self._starts(consumer, new)).items():
                consumer.seek(tp, offset)
        for watch in counted:
            watch.ready.set()
        return wanted

    async def _starts(
        self, consumer: AIOKafkaConsumer, new: set[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Where each new partition starts: ``lookback`` ago, or the sink's unstored rest."""
        now = time.time()
        ends = await consumer.end_offsets(list(new))
        recent = await consumer.offsets_for_times(
            dict.fromkeys(new, int((now - self._lookback) * 1000))
        )
        # The widest chart watched, plus the 5 minutes a reading may be ahead of acceptance.
        widest = max((w.window for ws in self._watches.values() for w in ws), default=0.0)
        back = min(self._max_lookback, widest + 300.0)
        oldest = await consumer.offsets_for_times(
            dict.fromkeys(new, int((now - max(back, self._lookback)) * 1000))
        )
        unstored = await self._sink_positions(new)
        starts = {}
        for tp in new:
            start = _offset(recent.get(tp), ends[tp])
            if tp in unstored:
                start = min(start, unstored[tp])
            starts[tp] = max(start, _offset(oldest.get(tp), ends[tp]))
        return starts

    async def _sink_positions(self, new: set[TopicPartition]) -> dict[TopicPartition, int]:
        """The stream processors' committed offsets: everything before them is stored."""
        if self._admin is None or self._sink_group is None:
            return {}
        try:
            committed = await asyncio.wait_for(
                self._admin.list_consumer_group_offsets(self._sink_group, partitions=list(new)), 2
            )
        except (TimeoutError, KafkaError):
            committed = {}
        positions = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
        if not positions:
            log.warning("live: no committed offsets of %s; reading a minute back", self._sink_group)
        return positions

    def _collect(
        self,
        key: bytes | None,
        value: bytes | None,
        into: dict[str, list[tuple[datetime, dict[str, float | None]]]],
    ) -> None:
        station = key.decode(errors="replace") if key else ""
        watchers = self._watches.get(station)
        if not watchers or value is None:
            return
        try:
            message = decode(value)
        except ValueError:
            return  # the stream processors dead-letter it; nothing to show
        # A backfill is history, not news: only readings some watcher's window still shows.
        horizon = time.time() - max(w.window for w in watchers)
        fresh = [(ts, v) for ts, v in message.readings if ts.timestamp() >= horizon]
        if fresh:
            into.setdefault(message.station_id, []).extend(fresh)

    def _deliver(self, station: str, readings: Readings) -> None:
        watchers = self._watches.get(station)
        if not watchers:
            return
        frame = live_frame(station, readings)
        for watch in list(watchers):
            try:
                watch.queue.put_nowait(frame)
            except asyncio.QueueFull:  # too slow to keep up: drop it, the browser reconnects
                self.unwatch(watch)
                LIVE_DROPPED.inc()
                with contextlib.suppress(asyncio.QueueFull):
                    watch.queue.get_nowait()
                    watch.queue.put_nowait(None)
