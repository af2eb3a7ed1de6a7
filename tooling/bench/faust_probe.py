"""How fast faust-streaming reads the readings topic, beside a plain aiokafka consumer.

``python -m tooling.bench.faust_probe`` (with the stack up) fills a probe topic
with simulated readings messages, reads it back once with an aiokafka
consumer and once with a faust-streaming agent (each decoding every message
with the sink's decoder), prints both rates as JSON and deletes the topic.
The figures back decisions/0005; the probe is not part of ``make bench``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from base.kafka_clients import durable_producer
from base.settings import PlatformSettings
from schemas.readings import Reading, StationReadingsAccepted
from schemas.readings_codec import decode
from tooling.simulator.weather import readings_between, station_ids

MESSAGES = 200
PER_MESSAGE = 2000  # readings, as the gateway splits a large request
PARTITIONS = 12


async def _fill(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = durable_producer(bootstrap, client_id="faust-probe")
    await producer.start()
    stations = station_ids(20, "PROBE")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for n in range(MESSAGES):
            station = stations[n % len(stations)]
            t0 = start + timedelta(seconds=10 * PER_MESSAGE * (n // len(stations)))
            items = readings_between(
                [station], t0, t0 + timedelta(seconds=10 * PER_MESSAGE), timedelta(seconds=10)
            )
            message = StationReadingsAccepted(
                ingest_id=uuid.uuid4(),
                org_id="probe",
                station_id=station,
                chunk=0,
                accepted_at=datetime.now(UTC),
                readings=[
                    Reading.model_validate({"ts": r["ts"], "values": r["values"]}) for r in items
                ],
            )
            await producer.send(topic, message.model_dump_json().encode(), key=station.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return MESSAGES * PER_MESSAGE


async def _aiokafka_rate(bootstrap: str, topic: str, total: int) -> float:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, started = 0, time.perf_counter()
        while seen < total:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=500)).values():
                for record in records:
                    seen += len(decode(record.value).readings)
        return total / (time.perf_counter() - started)
    finally:
        await consumer.stop()


_FAUST_WORKER = """
import os, time, faust
from schemas.readings_codec import decode
topic_name, total = os.environ["PROBE_TOPIC"], int(os.environ["PROBE_TOTAL"])
app = faust.App("faust-probe-" + topic_name, broker="kafka://" + os.environ["BOOTSTRAP"],
                store="memory://", web_enabled=False, datadir=os.environ["PROBE_DIR"],
                consumer_auto_offset_reset="earliest", topic_partitions=12)
topic = app.topic(topic_name, value_type=bytes, value_serializer="raw")
state = {"seen": 0, "started": None}

@app.agent(topic)
async def count(stream):
    async for value in stream:
        if state["started"] is None:
            state["started"] = time.perf_counter()
        state["seen"] += len(decode(value).readings)
        if state["seen"] >= total:
            with open(os.environ["PROBE_OUT"], "w") as out:  # faust captures stdout
                out.write(str(total / (time.perf_counter() - state["started"])))
            os._exit(0)

app.main()
"""


def _faust_rate(bootstrap: str, topic: str, total: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "rate"
        done = subprocess.run(
            [sys.executable, "-c", _FAUST_WORKER, "worker", "-l", "warn"],
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **os.environ,
                "BOOTSTRAP": bootstrap,
                "PROBE_TOPIC": topic,
                "PROBE_TOTAL": str(total),
                "PROBE_OUT": str(out),
                "PROBE_DIR": scratch,
            },
        )
        if not out.exists():
            raise RuntimeError(f"the faust worker gave no rate:\n{done.stderr[-4000:]}")
        return float(out.read_text())


async def _delete(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if prefix in t]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def main() -> None:
    bootstrap = PlatformSettings().effective_kafka_bootstrap
    topic = f"probe.{uuid.uuid4().hex[:8]}.readings"
    try:
        total = asyncio.run(_fill(bootstrap, topic))
        result: dict[str, Any] = {"messages": MESSAGES, "readings": total}
        result["aiokafka_readings_per_second"] = round(
            asyncio.run(_aiokafka_rate(bootstrap, topic, total))
        )
        result["faust_readings_per_second"] = round(_faust_rate(bootstrap, topic, total))
        result["cores"] = os.cpu_count()
        print(json.dumps(result, indent=2))
    finally:
        asyncio.run(_delete(bootstrap, topic.split(".")[1]))


if __name__ == "__main__":
    main()
