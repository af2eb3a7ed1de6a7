"""``scada stack up | down | status``: the local stack as a whole.

``up`` is idempotent: it downloads what is missing, starts only components
that are not running, waits until each answers, then creates or reconciles
the topics and migrates the database. Servers named by
``SCADA_KAFKA_BOOTSTRAP`` / ``SCADA_DATABASE_URL`` are used as they are.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
import httpx

from base.errors import ServerUnavailable, StackError
from base.kafka_topics import ensure_topics
from base.settings import PlatformSettings
from base.storage.database import connect, prepare_database
from historical_service.users import OPERATOR, create_user, grant_role
from ingest_gateway.tokens import create_token
from tooling.local_stack import downloads
from tooling.local_stack.health import (
    database_health,
    database_version,
    kafka_brokers,
    kafka_health,
)
from tooling.local_stack.kafka import JmxMetrics, KafkaNode, jmx_address
from tooling.local_stack.monitoring import (
    DEPLOY,
    Monitor,
    MonitoringSettings,
    Targets,
    monitors,
    prometheus_config_dir,
    require,
)
from tooling.local_stack.processes import ManagedProcess, stop_all
from tooling.local_stack.services import Service, pipeline_services, service_health
from tooling.local_stack.timescaledb import TimescaleServer

Say = Callable[[str], None]
READY_TIMEOUT = 120.0
SIMULATOR_STATIONS = 20
SIMULATOR_RATE = SIMULATOR_STATIONS / 10  # one reading per station every 10 s
# The first start also posts a year of one station's history (a reading a minute:
# 525,600 readings), so the dashboard has a year to draw.
DEMO_HISTORY = ("--backfill", "365d", "--interval", "1m", "--backfill-stations", "1")
KAFKA_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: str  # "running" | "stopped" | "external"
    pid: int | None
    address: str
    health: str


class LocalStack:
    def __init__(self, settings: PlatformSettings, say: Say = print) -> None:
        self.settings = settings
        self.home = settings.home
        self.say = say
        self.services = pipeline_services()
        self.monitoring = MonitoringSettings()
        self.simulator = self.services.simulator(SIMULATOR_STATIONS, SIMULATOR_RATE)

    # -- topology ---------------------------------------------------------------------------

    def kafka_nodes(self, cluster_size: int | None = None) -> list[KafkaNode]:
        n = cluster_size or self._running_cluster_size() or 1
        return [KafkaNode(self.home, i, n) for i in range(1, n + 1)]

    def _running_cluster_size(self) -> int | None:
        for n in (3, 1):
            if any(node.process.pid() for node in self._nodes_of(n)):
                return n
        return None

    def _nodes_of(self, n: int) -> list[KafkaNode]:
        return [KafkaNode(self.home, i, n) for i in range(1, n + 1)]

    def kafka_bootstrap(self) -> str:
        """Bootstrap servers: the configured ones, else every node of the running local cluster."""
        if self.settings.kafka_is_external:
            return self.settings.effective_kafka_bootstrap
        return ",".join(node.address for node in self.kafka_nodes())

    def jmx_metrics(self) -> JmxMetrics:
        return JmxMetrics(
            downloads.jmx_agent(self.settings.cache_dir, self.say),
            DEPLOY / "kafka" / "jmx-exporter.yml",
            self.monitoring.jmx_exporter_base_port,
        )

    def monitors(self) -> list[Monitor]:
        return monitors(
            self.home,
            self.monitoring,
            self.settings.effective_database_url,
            self.kafka_bootstrap(),
        )

    def timescale(self) -> TimescaleServer:
        return TimescaleServer(self.home, self.settings.cache_dir / "timescaledb-trixie")

    # -- commands ---------------------------------------------------------------------------

    async def up(
        self,
        *,
        brokers: int = 1,
        services: bool = False,
        simulate: bool = False,
        monitoring: bool | None = None,
    ) -> list[str]:
        """Start what is missing, wait until healthy, prepare topics and schema.

        Returns the names of the components started now.
        """
        started: list[str] = []
        with self._lock():
            if not self.settings.kafka_is_external:
                started += await self._kafka_up(brokers)
            else:
                self.say(f"Kafka: using {self.settings.kafka_bootstrap} (SCADA_KAFKA_BOOTSTRAP)")
            if not self.settings.database_is_external:
                started += await self._timescale_up()
            else:
                self.say("TimescaleDB: using SCADA_DATABASE_URL")
            await self._prepare()
            if services or simulate:
                started += await self._services_up(simulate=simulate)
            if monitoring is None:
                monitoring = services or simulate  # the pipeline comes watched
            if monitoring:
                started += await self._monitoring_up()
        return started

    def down(self) -> list[str]:
        """Stop every process of ours; return the names stopped."""
        stopped = []
        with self._lock():
            stopped += stop_all([s.process(self.home) for s in self._services()], timeout=15)
            stopped += stop_all([m.process(self.home) for m in self._monitors_known()], timeout=15)
            # SIGINT is PostgreSQL's fast shutdown: disconnect clients, checkpoint, exit.
            stopped += stop_all([self.timescale().process], sig=signal.SIGINT)
            for n in (3, 1):
                # A whole quorum stopping at once cannot finish controlled shutdown; the
                # remainder after KAFKA_STOP_TIMEOUT is a SIGKILL, which Kafka recovers from.
                stopped += stop_all(
                    [node.process for node in self._nodes_of(n)], timeout=KAFKA_STOP_TIMEOUT
                )
        return stopped

    async def status(self) -> list[ComponentStatus]:
        rows = []
        if self.settings.kafka_is_external:
            bootstrap = self.settings.effective_kafka_bootstrap
            rows.append(
                ComponentStatus("kafka", "external", None, bootstrap, await kafka_health(bootstrap))
            )
        else:
            for node in self.kafka_nodes():
                pid = node.process.pid()
                health = await kafka_health(node.address) if pid else "-"
                rows.append(
                    ComponentStatus(node.process.name, _state(pid), pid, node.address, health)
                )
        for service in self._services():
            pid = service.process(self.home).pid()
            if pid or service.process(self.home).pidfile.exists():
                health = await service_health(service) if pid else "-"
                rows.append(
                    ComponentStatus(service.name, _state(pid), pid, service.address, health)
                )
        for monitor in self._monitors_known():
            process = monitor.process(self.home)
            pid = process.pid()
            if pid or process.pidfile.exists():
                health = "-"
                if pid:
                    health = "ok" if await _healthy(monitor.health_url)() else "not answering"
                rows.append(
                    ComponentStatus(monitor.name, _state(pid), pid, monitor.address, health)
                )
        url = self.settings.effective_database_url
        if self.settings.database_is_external:
            rows.append(
                ComponentStatus(
                    "timescaledb",
                    "external",
                    None,
                    "SCADA_DATABASE_URL",
                    await database_health(url),
                )
            )
        else:
            server = self.timescale()
            pid = server.process.pid()
            health = await database_health(url) if pid else "-"
            rows.append(ComponentStatus("timescaledb", _state(pid), pid, server.address, health))
        return rows

    # -- parts ------------------------------------------------------------------------------

    async def _kafka_up(self, brokers: int) -> list[str]:
        running = self._running_cluster_size()
        if running is not None and running != brokers:
            raise StackError(
                f"Kafka is running as a {running}-broker cluster; `scada stack down` first "
                f"to switch to {brokers}"
            )
        nodes = self.kafka_nodes(brokers)
        missing = [node for node in nodes if node.process.pid() is None]
        if missing:
            libs = downloads.kafka_libs(self.settings.cache_dir, self.say)
            metrics = self.jmx_metrics()
            for node in missing:
                node.prepare(libs)
                pid = node.start(libs, metrics)
                self.say(f"Kafka node {node.node_id}: started pid {pid} on {node.address}")
        await self._wait(
            f"Kafka ({brokers} broker{'s' if brokers > 1 else ''})",
            lambda: _kafka_ready([node.address for node in nodes]),
            [node.process for node in missing],
        )
        return [node.process.name for node in missing]

    async def _timescale_up(self) -> list[str]:
        server = self.timescale()
        started = []
        if server.process.pid() is None:
            downloads.timescaledb_rootfs(self.settings.cache_dir, self.say)
            server.prepare()
            pid = server.start()
            self.say(f"TimescaleDB: started pid {pid} on {server.address}")
            started.append(server.process.name)
        admin_url = self.settings.effective_database_url.rsplit("/", 1)[0] + "/postgres"
        await self._wait(
            "TimescaleDB", lambda: _postgres_ready(admin_url), [server.process] if started else []
        )
        await _create_database(admin_url, self.settings.effective_database_url.rsplit("/", 1)[1])
        return started

    def _monitors_known(self) -> list[Monitor]:
        """The monitors, to stop or list what runs (also with a binary missing)."""
        return self.monitors()

    async def _monitoring_up(self) -> list[str]:
        """Prometheus and friends, scraping every process of ours (and Kafka's JMX agents)."""
        monitors = self.monitors()
        for monitor in monitors:
            require(monitor)
        self._targets().write(prometheus_config_dir(self.home) / "targets")
        started = []
        env = {**os.environ}
        for monitor in monitors:
            process = monitor.process(self.home)
            if process.pid() is None:
                pid = process.start(list(monitor.argv), env={**env, **monitor.env})
                self.say(f"{monitor.name}: started pid {pid} on {monitor.address}")
                started.append(monitor)
        for monitor in monitors:
            process = monitor.process(self.home)
            await self._wait(
                monitor.name, _healthy(monitor.health_url), [process] if monitor in started else []
            )
        await asyncio.sleep(1)  # a monitor refused its port exits within moments
        for monitor in started:
            process = monitor.process(self.home)
            if process.has_exited():
                raise StackError(
                    f"{monitor.name} exited after starting: is {monitor.address} taken by "
                    f"another server (a system prometheus service)? Last lines of "
                    f"{process.logfile}:\n{process.log_tail()}"
                )
        return [m.name for m in started]

    def _targets(self) -> Targets:
        def hostport(url: str) -> str:
            return url.removeprefix("http://").split("/", 1)[0]

        by_name = {m.name: hostport(m.address) for m in self.monitors()}
        jobs = {
            "prometheus": [by_name["prometheus"]],
            "alertmanager": [by_name["alertmanager"]],
            "node": [by_name["node-exporter"]],
            "postgres": [by_name["postgres-exporter"]],
            "kafka-lag": [by_name["lag-exporter"]],
            **{s.name: [hostport(s.address)] for s in self.services.all()},
            # Only the stack's own brokers carry the JMX agent; point a Prometheus of
            # your own at an existing cluster's exporters (README, "Monitoring").
            "kafka": []
            if self.settings.kafka_is_external
            else [
                jmx_address(self.monitoring.jmx_exporter_base_port, node.node_id)
                for node in self.kafka_nodes()
            ],
        }
        return Targets(jobs)

    def _services(self) -> list[Service]:
        return [self.simulator, *self.services.all()]

    async def _services_up(self, *, simulate: bool) -> list[str]:
        env = {
            "SCADA_KAFKA_BOOTSTRAP": self.kafka_bootstrap(),
            "SCADA_DATABASE_URL": self.settings.effective_database_url,
            "SCADA_HOME": str(self.home),
        }
        started = []
        core = self.services.all()
        for service in core:
            if service.process(self.home).pid() is None:
                pid = service.start(self.home, env)
                self.say(f"{service.name}: started pid {pid}")
                started.append(service)
        for service in core:
            await self._wait(
                service.name,
                _answers(service),
                [service.process(self.home)] if service in started else [],
            )
        if simulate and self.simulator.process(self.home).pid() is None:
            marker = self.home / "demo-history-posted"
            chosen = self.simulator
            if not marker.exists():
                chosen = self.services.simulator(SIMULATOR_STATIONS, SIMULATOR_RATE, DEMO_HISTORY)
            pid = chosen.start(self.home, {**env, "SCADA_TOKEN": await self.demo_token()})
            marker.touch()
            history = "" if chosen is self.simulator else "; posting a year of DEMO-0001's history"
            self.say(f"simulator: started pid {pid} ({SIMULATOR_STATIONS} stations{history})")
            started.append(chosen)
        return [s.name for s in started]

    async def demo_token(self) -> str:
        """The demo organisation's write token, created once and kept in ``$SCADA_HOME``."""
        return await self._kept_secret(
            "demo-token",
            lambda conn: create_token(conn, org_id="demo", stations=["*"], name="make up"),
        )

    async def demo_user_token(self) -> str:
        """The demo dashboard user's bearer token (all of org 'demo', an operator), created once."""
        secret = await self._kept_secret(
            "demo-user-token",
            lambda conn: create_user(
                conn,
                name=f"demo-{uuid.uuid4().hex[:6]}",
                org_id="demo",
                stations=["*"],
                roles=(OPERATOR,),
            ),
        )
        # A demo user made before roles existed becomes an operator too.
        conn = await connect(self.settings.effective_database_url)
        try:
            await grant_role(conn, secret, OPERATOR)
        finally:
            await conn.close()
        return secret

    async def _kept_secret(
        self,
        filename: str,
        make: Callable[[asyncpg.Connection], Awaitable[tuple[uuid.UUID, str]]],
    ) -> str:
        """A secret made once by ``make`` and kept (mode 0600) in ``$SCADA_HOME/filename``."""
        path = self.home / filename
        if path.exists():
            return path.read_text().strip()
        conn = await connect(self.settings.effective_database_url)
        try:
            _, secret = await make(conn)
        finally:
            await conn.close()
        path.touch(mode=0o600)
        path.write_text(secret + "\n")
        return secret

    async def _prepare(self) -> None:
        topics = self.settings.topics.all()
        changes = await ensure_topics(
            self.kafka_bootstrap(),
            topics,
            replication_override=self.settings.topic_replication_factor,
        )
        created = [c.topic for c in changes if c.action != "unchanged"]
        self.say(
            f"topics: {len(topics)} declared"
            + (f", changed {created}" if created else ", up to date")
        )
        features = await prepare_database(self.settings.effective_database_url)
        self.say(
            f"database: migrated; TimescaleDB {features.version} ({features.edition} edition), "
            f"compression {'on' if features.compression else 'unavailable'}"
        )

    async def _wait(
        self, what: str, ready: Callable[[], Awaitable[bool]], processes: list[ManagedProcess]
    ) -> None:
        """Poll ``ready`` until true; fail fast with the log if a process we started died."""
        started = time.monotonic()
        announced = started
        while not await ready():
            for process in processes:
                if process.has_exited():
                    raise StackError(
                        f"{process.name} exited while starting; last lines of {process.logfile}:\n"
                        f"{process.log_tail()}"
                    )
            elapsed = time.monotonic() - started
            if elapsed > READY_TIMEOUT:
                raise StackError(f"{what} did not become ready in {READY_TIMEOUT:.0f} s")
            if time.monotonic() - announced >= 5:
                self.say(f"waiting for {what} ... {elapsed:.0f} s")
                announced = time.monotonic()
            await asyncio.sleep(0.5)
        if processes:
            self.say(f"{what}: ready in {time.monotonic() - started:.1f} s")

    @contextmanager
    def _lock(self) -> Iterator[None]:
        lockfile = self.home / "run" / "stack.lock"
        lockfile.parent.mkdir(parents=True, exist_ok=True)
        with lockfile.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _state(pid: int | None) -> str:
    return "running" if pid else "stopped"


async def _kafka_ready(addresses: list[str]) -> bool:
    """True when every broker answers on its own address and sees the whole cluster."""
    counts = await asyncio.gather(*(kafka_brokers(a, timeout=3.0) for a in addresses))
    return all((count or 0) >= len(addresses) for count in counts)


def _healthy(url: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def _answers(service: Service) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await service_health(service)).startswith("ok")

    return check


async def _postgres_ready(url: str) -> bool:
    return await database_version(url) is not None


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # Identifiers cannot be parameters; quote_ident makes the name safe.
            quoted = await conn.fetchval("SELECT quote_ident($1)", name)
            await conn.execute(f"CREATE DATABASE {quoted}")
    except asyncpg.DuplicateDatabaseError:
        pass  # another `up` created it between our check and our create
    except (OSError, asyncpg.PostgresError) as exc:
        raise ServerUnavailable(f"could not create database {name!r}: {exc}") from exc
    finally:
        await conn.close()
