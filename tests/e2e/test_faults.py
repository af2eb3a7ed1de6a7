"""Real faults: a processor killed with SIGKILL, Kafka stopped, the database unreachable."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from base.settings import PlatformSettings
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests import pipeline
from tests.backends import Backends
from tests.pipeline import (
    assert_stored_exactly_once,
    make_token,
    readings,
    running_gateway,
    running_sink,
    wait_for,
)
from tests.tcp_proxy import TcpProxy
from tooling.local_stack import downloads
from tooling.local_stack.kafka import KafkaNode

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_sigkill_of_a_processor_mid_ingest_loses_and_duplicates_nothing(
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
    tmp_path: Path,
) -> None:
    stations = [f"{unique}-{i}" for i in range(6)]
    token = await make_token(database_url, "org-a", stations)

    def start_processor(name: str) -> subprocess.Popen[bytes]:
        log = tmp_path / f"{name}.log"
        return pipeline.start_processor(processor_settings, database_url, log)

    requests = 16
    per_request = 6000
    accepted: list[str] = []
    async with running_gateway(gateway_settings, token) as gateway:
        first = start_processor("first")
        try:
            for n in range(requests):
                # Request n covers a day of its own: every reading is distinct.
                items = readings(stations, per_request, start=JAN_1 + timedelta(days=n))
                response = await gateway.post(items)
                assert response.status_code == 202, response.text
                accepted.append(response.json()["ingest_id"])

            async def some_stored() -> Any:
                count = await db.fetchval(
                    "SELECT count(*) FROM telemetry.station_readings "
                    "WHERE station_id = ANY($1::text[])",
                    stations,
                )
                return 0 < count < requests * per_request

            await wait_for(some_stored, interval=0.02)
            first.send_signal(signal.SIGKILL)
        finally:
            first.kill()
            first.wait()
        assert first.returncode == -signal.SIGKILL

        second = start_processor("second")
        try:

            async def all_stored() -> Any:
                return await db.fetchval(
                    "SELECT count(*) FROM ingest.persisted_messages "
                    "WHERE ingest_id = ANY($1::uuid[])",
                    accepted,
                ) == requests * len(stations)

            await wait_for(all_stored, timeout=120)
        finally:
            second.terminate()
            second.wait(timeout=30)

    await assert_stored_exactly_once(db, stations, requests * per_request)
    persisted = await db.fetchval(
        "SELECT sum(persisted) FROM ingest.persisted_messages WHERE ingest_id = ANY($1::uuid[])",
        accepted,
    )
    assert persisted == requests * per_request


@pytest.fixture
def own_kafka(backends: Backends, tmp_path: Path) -> Any:
    """A broker of this test's own (port 21092), so stopping it disturbs no other test.

    Its ports (21092, controller 31092) lie below Linux's ephemeral range (32768-60999):
    a client retrying a dead localhost port inside that range can be handed that very
    port as its own and connect to itself (TCP simultaneous open), and the restarted
    broker then fails with "Address already in use" (seen in CI with 39092).
    """
    if backends.kind == "external":
        pytest.skip("needs the embedded stack to run a broker of its own")
    libs = downloads.kafka_libs(PlatformSettings().cache_dir, say=lambda _: None)
    node = KafkaNode(tmp_path, 1, 1, base_port=21092)
    node.prepare(libs)
    node.start(libs)
    yield node, libs
    node.process.stop(timeout=10)


async def test_gateway_answers_503_while_kafka_is_down_and_recovers_by_itself(
    own_kafka: Any, gateway_settings: GatewaySettings, database_url: str, unique: str
) -> None:
    node, libs = own_kafka
    from tooling.local_stack.health import kafka_brokers

    await wait_for(lambda: kafka_brokers(node.address), timeout=60, interval=0.5)
    station = f"{unique}-k"
    token = await make_token(database_url, "org-a", [station])
    settings = gateway_settings.model_copy(update={"kafka_bootstrap": node.address})
    async with running_gateway(settings, token) as gateway:
        assert (await gateway.post(readings([station], 100))).status_code == 202

        node.process.stop(sig=signal.SIGKILL, timeout=10)
        loop = asyncio.get_running_loop()
        started = loop.time()
        retried = readings([station], 200)[100:]
        key = {"idempotency-key": f"{unique}-during-outage"}
        down = await gateway.post(retried, **key)
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) >= 1
        assert "Kafka" in down.json()["message"]
        assert loop.time() - started < 6  # an answer within seconds, never a hang

        node.start(libs)

        async def accepted_again() -> Any:
            # The 503 freed its key: the station's retry with the same key is accepted.
            answer = await gateway.post(retried, **key)
            assert answer.status_code in (202, 503), answer.text
            return answer.status_code == 202

        await wait_for(accepted_again, timeout=90, interval=1.0)


async def test_sink_waits_out_a_database_outage_and_dead_letters_nothing(
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    stations = [f"{unique}-db"]
    token = await make_token(database_url, "org-a", stations)
    sink_settings = processor_settings.model_copy(update={"database_url": proxied})
    try:
        async with running_gateway(gateway_settings, token) as gateway, running_sink(sink_settings):
            assert (await gateway.post(readings(stations, 100))).status_code == 202

            async def stored(n: int) -> Any:
                return (
                    await db.fetchval(
                        "SELECT count(*) FROM telemetry.station_readings WHERE station_id = $1",
                        stations[0],
                    )
                    == n
                )

            await wait_for(lambda: stored(100))
            await proxy.cut()
            more = readings(stations, 300)[100:]
            assert (await gateway.post(more)).status_code == 202
            await asyncio.sleep(2)  # the sink retries against the dead connection meanwhile
            assert await stored(100)
            await proxy.restore()
            await wait_for(lambda: stored(300), timeout=60)
    finally:
        await proxy.close()
    await assert_stored_exactly_once(db, stations, 300)
    assert (
        await db.fetchval(
            "SELECT coalesce(sum(dead_lettered), 0) FROM ingest.persisted_messages p "
            "JOIN ingest.ingests i USING (ingest_id) WHERE p.station_id = $1",
            stations[0],
        )
        == 0
    )
