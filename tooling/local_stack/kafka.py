"""Apache Kafka brokers in KRaft mode (each node broker and controller) as local processes."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from base.errors import StackError
from base.settings import LOCAL_KAFKA_PORT
from tooling.local_stack.processes import ManagedProcess

BROKER_BASE_PORT = LOCAL_KAFKA_PORT
NODE_PORT_STEP = 100
HEAP_MAX = "512m"  # plenty for a dev broker; the machine runs everything else too
HEAP_MIN = "128m"


@dataclass(frozen=True)
class KafkaNode:
    """Node ``node_id`` (1-based) of a ``cluster_size``-node cluster under ``home``."""

    home: Path
    node_id: int
    cluster_size: int
    base_port: int = BROKER_BASE_PORT
    """Node i listens on ``base_port + 100 (i - 1)`` (9092, 9192, 9292: clear of
    Alertmanager's 9093 and the exporters), its controller ``10000`` above."""

    @property
    def port(self) -> int:
        return self.base_port + NODE_PORT_STEP * (self.node_id - 1)

    def controller_port(self, node_id: int) -> int:
        return self.base_port + 10_000 + NODE_PORT_STEP * (node_id - 1)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def directory(self) -> Path:
        # One directory per topology: a 1-node log cannot become a 3-node quorum.
        return self.home / "kafka" / f"cluster-of-{self.cluster_size}" / f"node-{self.node_id}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name=f"kafka-{self.node_id}",
            pidfile=self.home / "run" / f"kafka-{self.cluster_size}n-{self.node_id}.pid",
            logfile=self.home / "logs" / f"kafka-{self.node_id}.log",
            marker=str(self.directory / "server.properties"),
        )

    def properties(self) -> str:
        n = self.cluster_size
        voters = ",".join(f"{i}@127.0.0.1:{self.controller_port(i)}" for i in range(1, n + 1))
        internal_rf = min(3, n)
        return "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                f"controller.quorum.voters={voters}",
                f"listeners=PLAINTEXT://{self.address},"
                f"CONTROLLER://127.0.0.1:{self.controller_port(self.node_id)}",
                f"advertised.listeners=PLAINTEXT://{self.address}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={self.directory / 'data'}",
                f"offsets.topic.replication.factor={internal_rf}",
                f"transaction.state.log.replication.factor={internal_rf}",
                f"transaction.state.log.min.isr={2 if n >= 3 else 1}",
                "auto.create.topics.enable=false",
                "group.initial.rebalance.delay.ms=0",
                "num.network.threads=2",
                "num.io.threads=4",
                "message.max.bytes=16777216",
                "replica.fetch.max.bytes=16777216",
                "",
            ]
        )

    def prepare(self, libs: Path) -> None:
        """Write the config and format the storage once (KRaft needs a formatted log dir)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "server.properties"
        config.write_text(self.properties())
        if (self.directory / "data" / "meta.properties").exists():
            return
        cluster_id_file = self.directory.parent / "cluster.id"
        if not cluster_id_file.exists():
            cluster_id_file.write_text(_random_cluster_id() + "\n")
        cluster_id = cluster_id_file.read_text().strip()
        result = subprocess.run(
            [
                *_java(libs),
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                cluster_id,
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def start(self, libs: Path, metrics: JmxMetrics | None = None) -> int:
        log4j = self.home / "kafka" / "log4j2.yaml"
        log4j.write_bytes(
            resources.files("tooling.local_stack").joinpath("log4j2.yaml").read_bytes()
        )
        agent = [] if metrics is None else [metrics.agent_argument(self.node_id)]
        argv = [
            *_java(libs, xmx=HEAP_MAX, xms=HEAP_MIN, log4j=log4j, agent=agent),
            "kafka.Kafka",
            str(self.directory / "server.properties"),
        ]
        return self.process.start(argv)


@dataclass(frozen=True)
class JmxMetrics:
    """The JMX exporter's java agent in a broker: node i serves /metrics on base + i - 1."""

    jar: Path
    config: Path
    base_port: int

    def agent_argument(self, node_id: int) -> str:
        return f"-javaagent:{self.jar}={jmx_address(self.base_port, node_id)}:{self.config}"


def jmx_address(base_port: int, node_id: int) -> str:
    return f"127.0.0.1:{base_port + node_id - 1}"


def _java(
    libs: Path,
    *,
    xmx: str = "256m",
    xms: str = "64m",
    log4j: Path | None = None,
    agent: list[str] | None = None,
) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise StackError("a Java runtime (17+) is needed; run `make up` (it installs one)")
    argv = [java, f"-Xmx{xmx}", f"-Xms{xms}"]
    argv += ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]
    if log4j is not None:
        argv.append(f"-Dlog4j2.configurationFile={log4j}")
    argv += agent or []
    return [*argv, "-cp", f"{libs}/*"]


def _random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as StorageTool).

    Never starting with '-' (as Kafka's own ``Uuid.randomUuid``): StorageTool's
    argument parser reads ``-t -xyz…`` as a missing value and refuses to format, one
    cluster in 64 (a fresh-clone CI run met it).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
