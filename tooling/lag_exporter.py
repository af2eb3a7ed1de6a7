"""The lag exporter: consumer lag and dead-letter depth, measured from outside the groups.

``python -m tooling.lag_exporter --web.listen-address HOST:PORT`` (the local stack runs
it; ``SCADA_KAFKA_BOOTSTRAP``, ``SCADA_LAG_GROUPS`` and ``SCADA_TOPIC_NAMESPACE`` say
what to watch). Each scrape of ``/metrics`` reads the groups' committed offsets, the
partitions' ends and the oldest unconsumed message's timestamp, as ``scada lag`` does,
and answers with what it found then:

- ``scada_consumer_lag_messages{group,topic,partition}``
- ``scada_consumer_lag_seconds{group,topic,partition}``: the age of the oldest message
  the group has not committed past (0 when caught up)
- ``scada_dead_letters{topic}``: messages the dead-letter topic holds now
- ``scada_lag_exporter_kafka_up``: 1 if Kafka answered this scrape

A consumer cannot report its own lag once it has stopped, and that is when lag
matters: so lag is measured here, as Burrow or kafka-lag-exporter would, and a
stopped sink's lag keeps growing on the dashboards until someone restarts it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import uvicorn
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from base.errors import ScadaError
from base.http.responses import ORJSONResponse
from base.kafka_operations import PartitionLag, consumer_lag, dead_letter_depth
from tooling.local_stack.monitoring import MonitoringSettings

log = logging.getLogger("scada.lag_exporter")
T = TypeVar("T")
Measurement = tuple[list[PartitionLag] | None, dict[str, int] | None]

MEASURE_TIMEOUT = 8.0
"""Seconds for one whole measurement: under the kafka-lag job's scrape timeout (10 s)."""


def render(lags: list[PartitionLag] | None, dead_letters: dict[str, int] | None) -> bytes:
    """The exposition text of one measurement (``None``: not measured this time)."""
    registry = CollectorRegistry()
    up = Gauge(
        "scada_lag_exporter_kafka_up",
        "1 if Kafka answered this scrape's lag measurement.",
        registry=registry,
    )
    up.set(0 if lags is None else 1)
    if lags is not None:
        messages = Gauge(
            "scada_consumer_lag_messages",
            "Messages between the group's committed offset and the partition's end.",
            ["group", "topic", "partition"],
            registry=registry,
        )
        seconds = Gauge(
            "scada_consumer_lag_seconds",
            "Age of the oldest message the group has not committed past (0 when caught up).",
            ["group", "topic", "partition"],
            registry=registry,
        )
        for lag in lags:
            labels = (lag.group, lag.topic, str(lag.partition))
            messages.labels(*labels).set(lag.messages)
            seconds.labels(*labels).set(lag.seconds)
    if dead_letters is not None:
        depth = Gauge(
            "scada_dead_letters",
            "Messages the dead-letter topic holds now (`scada dlq list`).",
            ["topic"],
            registry=registry,
        )
        for topic, count in dead_letters.items():
            depth.labels(topic).set(count)
    return generate_latest(registry)


def create_app(settings: MonitoringSettings) -> Starlette:
    bootstrap = settings.effective_kafka_bootstrap
    dlq = settings.topics.readings_dlq
    in_flight: asyncio.Task[Measurement] | None = None

    async def measure_once() -> Measurement:
        lags: list[PartitionLag] | None = None
        try:
            async with asyncio.timeout(MEASURE_TIMEOUT):
                lags = await _answer(consumer_lag(bootstrap, settings.lag_groups))
                if lags is None:
                    return None, None
                # No dead-letter topic yet (no sink has started): no depth, the lag counts.
                depth = await _answer(dead_letter_depth(bootstrap, dlq))
                return lags, None if depth is None else {dlq.name: depth}
        except TimeoutError:
            log.warning("Kafka at %s gave no full answer in %g s", bootstrap, MEASURE_TIMEOUT)
            return lags, None

    async def measure() -> Measurement:
        # Scrapers arriving together share one measurement; one that gives up (its
        # scrape timed out) does not cancel it for the others.
        nonlocal in_flight
        if in_flight is None or in_flight.done():
            in_flight = asyncio.create_task(measure_once())
        return await asyncio.shield(in_flight)

    async def metrics(request: Request) -> Response:
        lags, dead_letters = await measure()
        return Response(render(lags, dead_letters), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return ORJSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz)])


async def _answer(work: Awaitable[T]) -> T | None:
    """``work``'s answer, or None (logged) if Kafka did not give one."""
    try:
        return await work
    except ScadaError as exc:
        log.warning("%s", exc)
    except Exception:  # a scrape never takes the exporter down
        log.exception("measuring lag failed")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tooling.lag_exporter", description=__doc__)
    parser.add_argument("--web.listen-address", dest="listen", default="127.0.0.1:9308")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the warning above says it
    uvicorn.run(create_app(MonitoringSettings()), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
