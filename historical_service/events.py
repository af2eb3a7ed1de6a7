"""Fan-out of job events from Kafka to each user's Server-Sent Events streams, resumable.

Every API process reads the whole events topic (no consumer group, from the
end at start) and hands each event to the queues of its user's open streams;
a user only ever receives events whose ``user_id`` is theirs.

An event's SSE id is the read position of every partition just after it
(``"v1:12.0.7.3.0.9"``). A client that reconnects with ``Last-Event-ID`` gets
every event of theirs between that position and the live stream replayed
from Kafka, in partition order, then the live stream: nothing missed, nothing
repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncGenerator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from base.kafka_topics import describe_topics
from base.transient import cancel_and_wait
from schemas.topics import Topic

log = logging.getLogger(__name__)
Positions = dict[int, int]
Delivery = tuple[str, Any]
REPLAY_TIMEOUT = 10.0  # seconds; a replay that cannot finish gives way to the live stream


def encode_position(positions: Positions) -> str:
    return "v1:" + ".".join(str(positions[p]) for p in sorted(positions))


def decode_position(text: str, partitions: int) -> Positions | None:
    """The positions in an SSE id, or ``None`` if it is not one of ours (start from live)."""
    if not text.startswith("v1:"):
        return None
    try:
        offsets = [int(part) for part in text[3:].split(".")]
    except ValueError:
        return None
    if len(offsets) != partitions or min(offsets) < 0:
        return None
    return dict(enumerate(offsets))


class EventBroker:
    def __init__(self, bootstrap: str, topic: Topic[Any]) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        # Without a short fetch wait an event could sit out a whole fetch (500 ms by
        # default) before it reached the browser (decisions/0006).
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        self.subscribers: dict[str, set[asyncio.Queue[Delivery]]] = defaultdict(set)
        self.positions: Positions = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic.name)
        if not partitions:  # created moments ago: not yet in the consumer's metadata
            counts = await describe_topics(self.bootstrap, [self.topic.name])
            partitions = set(range(counts.get(self.topic.name, 0)))
        assigned = [TopicPartition(self.topic.name, p) for p in sorted(partitions)]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve "end" now, before any job can publish
            self.positions[tp.partition] = await self.consumer.position(tp)
        self._task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self.consumer.stop()

    def subscribe(self, user_id: str) -> tuple[asyncio.Queue[Delivery], Positions]:
        """A queue of the user's live events, and the position where live begins.

        No ``await`` here: nothing can be published between the two.
        """
        queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=1000)
        self.subscribers[user_id].add(queue)
        return queue, dict(self.positions)

    def unsubscribe(self, user_id: str, queue: asyncio.Queue[Delivery]) -> None:
        """Idempotent: the stream's end and the response's background task both call it."""
        queues = self.subscribers.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[user_id]

    async def replay(
        self, user_id: str, since: Positions, until: Positions
    ) -> AsyncGenerator[Delivery, None]:
        """The user's events between two positions, read again from Kafka."""
        if all(since.get(p, 0) >= until[p] for p in until):
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a position past retention resumes at the oldest kept
        )
        await consumer.start()
        deadline = asyncio.get_running_loop().time() + REPLAY_TIMEOUT
        try:
            wanted = [TopicPartition(self.topic.name, p) for p in until if since[p] < until[p]]
            consumer.assign(wanted)
            for tp in wanted:
                consumer.seek(tp, since[tp.partition])
            position = dict(since)
            remaining = set(wanted)
            while remaining and asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(*remaining, timeout_ms=1000)
                for tp, records in batch.items():
                    for record in records:
                        if record.offset >= until[tp.partition]:
                            remaining.discard(tp)
                            break
                        position[tp.partition] = record.offset + 1
                        event = self._decode(record.value)
                        if event is not None and event.user_id == user_id:
                            yield encode_position(position), event
                    if position[tp.partition] >= until[tp.partition]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()

    async def _pump(self) -> None:
        while True:
            try:
                batch = await self.consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("events consumer: %s", exc)
                await asyncio.sleep(1)
                continue
            for tp, records in sorted(batch.items(), key=lambda item: item[0].partition):
                for record in records:
                    self.positions[tp.partition] = record.offset + 1
                    event = self._decode(record.value)
                    if event is None:
                        continue
                    event_id = encode_position(self.positions)
                    for queue in list(self.subscribers.get(event.user_id, ())):
                        if not queue.full():
                            queue.put_nowait((event_id, event))

    def _decode(self, value: bytes | None) -> Any:
        try:
            return self.topic.deserialize(value or b"")
        except ValueError:
            return None
