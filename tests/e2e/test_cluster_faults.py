"""A real 3-broker KRaft cluster losing brokers under load (replication 3, min.insync 2).

The cluster is the test module's own (ports 22092, 22192, 22292, controllers 32092, 32192, 32292,
each broker's JMX exporter agent on 27071, 27072, 27073, all below Linux's ephemeral
range), so killing its brokers disturbs no other test. Stations are played by
clients that retry a 503 after its Retry-After, as a data logger would; every
reading they were told is accepted must end up in the database exactly once, with
complete receipts.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from base.settings import PlatformSettings
from historical_service.settings import HistoricalSettings
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.backends import Backends
from tests.history import historical_settings, new_user, running_historical, store
from tests.monitoring import running_monitoring
from tests.pipeline import (
    Gateway,
    assert_stored_exactly_once,
    make_token,
    readings,
    running_gateway,
    running_sink,
    wait_for,
)
from tooling.local_stack import downloads
from tooling.local_stack.health import kafka_brokers
from tooling.local_stack.kafka import JmxMetrics, KafkaNode, jmx_address
from tooling.local_stack.monitoring import DEPLOY

BASE_PORT = 22092
JMX_BASE_PORT = 27071  # clear of the stack's brokers' agents (7071..) and of the cluster's ports
START = datetime(2026, 7, 1, tzinfo=UTC)


@dataclass
class Cluster:
    nodes: list[KafkaNode]
    libs: Path
    metrics: JmxMetrics

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    @property
    def jmx_addresses(self) -> list[str]:
        """Each broker's JMX exporter (``host:port``), for Prometheus' ``kafka`` job."""
        return [jmx_address(self.metrics.base_port, node.node_id) for node in self.nodes]

    def kill(self, node_id: int) -> None:
        self.nodes[node_id - 1].process.stop(sig=signal.SIGKILL, timeout=10)

    def restart(self, node_id: int) -> None:
        self.nodes[node_id - 1].start(self.libs, self.metrics)

    def active_controller(self) -> int:
        """The KRaft quorum's leader, from the newest ``quorum-state`` any node wrote."""
        states = []
        for node in self.nodes:
            path = node.directory / "data" / "__cluster_metadata-0" / "quorum-state"
            if path.exists():
                state = json.loads(path.read_text())
                states.append((state["leaderEpoch"], state["leaderId"]))
        return int(max(states)[1])


@pytest.fixture(scope="module")
def cluster(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if backends.kind == "external":
        pytest.skip("needs the embedded stack to run a cluster of its own")
    cache = PlatformSettings().cache_dir
    libs = downloads.kafka_libs(cache, say=lambda _: None)
    metrics = JmxMetrics(
        downloads.jmx_agent(cache, say=lambda _: None),
        DEPLOY / "kafka" / "jmx-exporter.yml",
        JMX_BASE_PORT,
    )
    home = tmp_path_factory.mktemp("cluster")
    nodes = [KafkaNode(home, i, 3, base_port=BASE_PORT) for i in (1, 2, 3)]
    for node in nodes:
        node.prepare(libs)
        node.start(libs, metrics)
    try:
        yield Cluster(nodes, libs, metrics)  # each test first waits for all three brokers
    finally:
        for node in nodes:
            node.process.stop(sig=signal.SIGKILL, timeout=10)


async def _until_brokers(cluster: Cluster, n: int) -> None:
    async def up() -> bool:
        return await kafka_brokers(cluster.bootstrap) == n

    await wait_for(up, timeout=90, interval=0.5)


async def _partitions(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return list(described["partitions"])
    finally:
        await admin.close()


async def _healed(bootstrap: str, topic: str) -> bool:
    """Every partition has a leader and all three replicas in sync."""
    try:
        partitions = await _partitions(bootstrap, topic)
    except Exception:
        return False
    return all(p["leader"] >= 0 and len(p["isr"]) == 3 for p in partitions)


@dataclass
class Station:
    """A data logger: posts its readings in turn, retrying each POST until it is a 202."""

    gateway: Gateway
    station_ids: list[str]
    size: int = 300
    every: float = 0.2
    accepted: list[str] = field(default_factory=list)
    readings: int = 0
    refusals: list[tuple[float, int, str | None]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        n = 0  # each logger has stations of its own: hours may repeat across loggers
        while not stop.is_set():
            items = readings(self.station_ids, self.size, start=START + timedelta(hours=n))
            while True:
                answer = await self.gateway.post(items)
                if answer.status_code == 202:
                    self.accepted.append(answer.json()["ingest_id"])
                    self.readings += self.size
                    break
                self.refusals.append(
                    (time.monotonic(), answer.status_code, answer.headers.get("retry-after"))
                )
                assert answer.status_code == 503, answer.text  # the only answer worth a retry
                await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
            n += 1
            await asyncio.sleep(self.every)


async def test_killing_the_busiest_broker_then_the_controller_loses_nothing(
    cluster: Cluster,
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    on_cluster = {"kafka_bootstrap": cluster.bootstrap}
    gateway_on = gateway_settings.model_copy(update=on_cluster)
    sink_on = processor_settings.model_copy(update=on_cluster)
    topic = gateway_on.topics.readings.name
    stations = [f"{unique}-{i}" for i in range(8)]
    token = await make_token(database_url, "org-a", stations)
    await _until_brokers(cluster, 3)
    async with running_gateway(gateway_on, token) as gateway, running_sink(sink_on):
        assert {len(p["replicas"]) for p in await _partitions(cluster.bootstrap, topic)} == {3}
        loggers = [Station(gateway, stations[i : i + 2]) for i in range(0, 8, 2)]
        stop = asyncio.Event()
        running = [asyncio.create_task(s.run(stop)) for s in loggers]
        watching = asyncio.create_task(_report(loggers, stop))
        await asyncio.sleep(3)

        leaders = [p["leader"] for p in await _partitions(cluster.bootstrap, topic)]
        busiest = max(set(leaders), key=leaders.count)
        cluster.kill(busiest)
        await asyncio.sleep(10)
        cluster.restart(busiest)
        await _until_brokers(cluster, 3)
        await wait_for(lambda: _healed(cluster.bootstrap, topic), timeout=120, interval=1)

        controller = cluster.active_controller()
        cluster.kill(controller)
        await asyncio.sleep(10)
        cluster.restart(controller)
        await _until_brokers(cluster, 3)
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*running, watching)
        await wait_for(lambda: _healed(cluster.bootstrap, topic), timeout=120, interval=1)

        refusals = [r for s in loggers for r in s.refusals]
        assert {(status, bool(after)) for _, status, after in refusals} <= {(503, True)}
        total = sum(s.readings for s in loggers)

        async def all_stored() -> Any:
            count = await db.fetchval(
                "SELECT count(*) FROM telemetry.station_readings "
                "WHERE station_id = ANY($1::text[])",
                stations,
            )
            return count == total or None

        await wait_for(all_stored, timeout=120, interval=0.5)
        await assert_stored_exactly_once(db, stations, total)
        auth = {"authorization": f"Bearer {token}"}
        # Every reading can be stored before every receipt is: a request refused with a
        # 503 may still have landed in part, and its retry's messages then store nothing
        # new; the retry's receipt completes once the sink reaches them.
        for ingest_id in [i for s in loggers for i in s.accepted]:

            async def completed(ingest_id: str = ingest_id) -> Any:
                answer = await gateway.client.get(f"/v1/ingests/{ingest_id}", headers=auth)
                body = answer.json()
                done = (body["state"], body["persisted_count"]) == ("completed", 300)
                return body if done else None

            await wait_for(completed, timeout=120, interval=0.5)
    window = max(t for t, _, _ in refusals) - min(t for t, _, _ in refusals) if refusals else 0
    print(
        f"brokers {busiest} (busiest) and {controller} (controller) killed: "
        f"{sum(len(s.accepted) for s in loggers)} POSTs accepted, {len(refusals)} 503s "
        f"over {window:.1f} s, {total} readings stored once"
    )


async def _report(loggers: list[Station], stop: asyncio.Event) -> None:
    """A line every 5 s (shown with -s, and in the failure's captured output)."""
    started = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(5)
        accepted = sum(len(s.accepted) for s in loggers)
        refused = [status for s in loggers for _, status, _ in s.refusals]
        print(f"[load] {time.monotonic() - started:5.1f} s: {accepted} accepted, {refused=}")


@pytest.fixture
async def historical_on_cluster(
    cluster: Cluster, database_url: str, unique: str, tmp_path: Path
) -> AsyncIterator[tuple[HistoricalSettings, httpx.AsyncClient]]:
    settings = historical_settings(cluster.bootstrap, database_url, unique, tmp_path / "results")
    await _until_brokers(cluster, 3)
    async with running_historical(settings) as client:
        yield settings, client


async def test_historical_jobs_complete_while_a_broker_is_down(
    cluster: Cluster,
    historical_on_cluster: tuple[HistoricalSettings, httpx.AsyncClient],
    database_url: str,
    unique: str,
) -> None:
    _, client = historical_on_cluster
    station = f"{unique}-hist"
    await store(
        database_url, station, [(START + timedelta(seconds=10 * i), {"t": i}) for i in range(60)]
    )
    _, token = await new_user(database_url, [station])
    auth = {"authorization": f"Bearer {token}"}
    victim = cluster.active_controller() % 3 + 1  # a broker that is not the controller
    cluster.kill(victim)
    try:
        job = {
            "stations": [station],
            "sensors": ["t"],
            "start": START.isoformat(),
            "end": (START + timedelta(minutes=10)).isoformat(),
            "resolution": "raw",
        }

        async def queued() -> Any:  # as a dashboard would: retry a 503 after its Retry-After
            answer = await client.post("/v1/historical-jobs", headers=auth, json=job)
            if answer.status_code == 503:
                await asyncio.sleep(float(answer.headers["retry-after"]))
                return None
            assert answer.status_code == 202, answer.text
            return answer.json()["job_id"]

        job_id = await wait_for(queued, timeout=120)

        async def completed() -> Any:
            view = (await client.get(f"/v1/historical-jobs/{job_id}", headers=auth)).json()
            assert view["status"] not in ("failed", "cancelled"), view
            return view if view["status"] == "completed" else None

        view = await wait_for(completed, timeout=120, interval=0.5)
        assert view["rows_done"] == 60
    finally:
        cluster.restart(victim)
        await _until_brokers(cluster, 3)


async def test_a_killed_broker_pages_under_replicated_partitions_through_alertmanager(
    cluster: Cluster, database_url: str, unique: str, tmp_path: Path
) -> None:
    """SIGKILLing one broker of three makes ``KafkaUnderReplicatedPartitions`` page.

    The shipped rule (deploy/prometheus/alerts.yml) on a Prometheus of the test's own
    scrapes the three brokers' JMX exporters; a topic of replication 3 is fully in sync
    (Prometheus sees 0 from all three), a broker that is not the quorum's leader is
    killed, the survivors lead its partitions with two replicas in sync, and the alert
    travels rule → Alertmanager → the alert log as a page with its runbook.
    """
    await _until_brokers(cluster, 3)
    topic = f"{unique}-replicated"
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=6,
                    replication_factor=3,
                    topic_configs={"min.insync.replicas": "2"},
                )
            ]
        )
    finally:
        await admin.close()
    await wait_for(lambda: _healed(cluster.bootstrap, topic), timeout=60, interval=1)

    async with running_monitoring(
        tmp_path, database_url, kafka_bootstrap=cluster.bootstrap, lag_groups=[]
    ) as monitoring:
        monitoring.scrape({"kafka": cluster.jmx_addresses})

        async def all_in_sync() -> bool:
            series = await monitoring.query("kafka_server_replicamanager_underreplicatedpartitions")
            return len(series) == 3 and all(s["value"][1] == "0" for s in series)

        await wait_for(all_in_sync, timeout=120, interval=1)

        victim = cluster.active_controller() % 3 + 1  # a broker that is not the controller
        cluster.kill(victim)
        try:
            # Fenced within the broker session timeout (9 s), then `> 0` for 1 m at
            # 15 s scrapes and evaluations, then Alertmanager's 10 s group wait.
            async def notified() -> dict[str, Any] | None:
                return await monitoring.notified("KafkaUnderReplicatedPartitions")

            alert = await wait_for(notified, timeout=240, interval=2)
            assert alert["status"] == "firing"
            assert alert["labels"]["severity"] == "page"
            assert alert["annotations"]["runbook"] == (
                "docs/operations.md#kafkaunderreplicatedpartitions"
            )
        finally:
            cluster.restart(victim)
            await _until_brokers(cluster, 3)
            await wait_for(lambda: _healed(cluster.bootstrap, topic), timeout=120, interval=1)
