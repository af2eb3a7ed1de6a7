"""Alarm transitions from Kafka to each user's alarm stream (``GET /v1/alarms/stream``).

Every API process reads the whole alarms topic (no consumer group, from its end at
start) and hands each transition to the streams that may see it: a user's stream gets
a transition only of their organisation and, unless they are granted every station,
of one of their granted stations. The grants are the user's database row as their
stream opened it (a revoked user's streams close within the heartbeat).

The stream is a nudge, not the record: a page (re)connecting reads ``GET /v1/alarms``
for the state of every alarm, then applies what the stream brings.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from base.kafka_topics import describe_topics
from base.transient import cancel_and_wait
from historical_service.users import User
from schemas.alarms import AlarmTransition
from schemas.topics import Topic

log = logging.getLogger(__name__)


@dataclass(eq=False)
class AlarmWatch:
    """One open stream: the user's organisation and grants, and its queue."""

    org_id: str
    every_station: bool
    stations: frozenset[str]
    queue: asyncio.Queue[AlarmTransition | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )

    def sees(self, transition: AlarmTransition) -> bool:
        if transition.org_id != self.org_id:
            return False
        return self.every_station or transition.station_id in self.stations


class AlarmFeed:
    def __init__(self, bootstrap: str, topic: Topic[AlarmTransition]) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        self.watches: dict[str, set[AlarmWatch]] = defaultdict(set)
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
        for tp in assigned:  # resolve "end" now
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self.consumer.stop()

    def watch(self, user: User, granted: list[str]) -> AlarmWatch:
        watch = AlarmWatch(user.org_id, user.all_stations, frozenset(granted))
        self.watches[user.org_id].add(watch)
        return watch

    def unwatch(self, watch: AlarmWatch) -> None:
        """Idempotent: the stream's end and the response's background task both call it."""
        watches = self.watches.get(watch.org_id)
        if watches is not None:
            watches.discard(watch)
            if not watches:
                del self.watches[watch.org_id]

    async def _pump(self) -> None:
        while True:
            try:
                batch = await self.consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("alarm feed consumer: %s", exc)
                await asyncio.sleep(1)
                continue
            except Exception:  # never a feed that dies quietly: say so, go on
                log.exception("alarm feed consumer failed; reading on in 1 s")
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    try:
                        transition = self.topic.deserialize(record.value or b"")
                    except ValueError:
                        continue
                    for watch in list(self.watches.get(transition.org_id, ())):
                        if not watch.sees(transition):
                            continue
                        if watch.queue.full():  # fell too far behind: end, it reconnects
                            watch.queue.get_nowait()
                            watch.queue.put_nowait(None)
                        else:
                            watch.queue.put_nowait(transition)
