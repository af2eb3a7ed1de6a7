"""Where the test suite gets its real Kafka and TimescaleDB.

In order of preference:

1. ``SCADA_KAFKA_BOOTSTRAP`` and ``SCADA_DATABASE_URL`` name existing servers;
2. ``SCADA_TEST_BACKEND=docker`` and a Docker engine answers: testcontainers'
   Kafka and ``timescale/timescaledb`` containers;
3. otherwise the embedded local stack (``scada stack up``), reused if running.
   Components the suite started itself are stopped at the end, unless
   ``SCADA_TEST_KEEP_STACK=1``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from base.settings import PlatformSettings
from tooling.local_stack.stack import LocalStack


@dataclass(frozen=True)
class Backends:
    kafka_bootstrap: str
    database_url: str
    kind: str  # "external" | "docker" | "local"
    brokers: int = 1

    def scada(self, *args: str, namespace: str = "") -> subprocess.CompletedProcess[str]:
        """Run the ``scada`` command line, as an operator would, against these servers."""
        env = {
            **os.environ,
            "SCADA_DATABASE_URL": self.database_url,
            "SCADA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SCADA_TOPIC_NAMESPACE": namespace,
        }
        return subprocess.run(
            [sys.executable, "-m", "tooling", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )


@contextmanager
def provide_backends(say: Callable[[str], None]) -> Iterator[Backends]:
    settings = PlatformSettings()
    if settings.kafka_is_external and settings.database_is_external:
        yield Backends(
            settings.effective_kafka_bootstrap, settings.effective_database_url, "external"
        )
    elif os.environ.get("SCADA_TEST_BACKEND") == "docker":
        with _docker_backends() as backends:
            yield backends
    else:
        with _local_backends(settings, say) as backends:
            yield backends


@contextmanager
def _local_backends(settings: PlatformSettings, say: Callable[[str], None]) -> Iterator[Backends]:
    stack = LocalStack(settings, say=say)
    started = asyncio.run(stack.up(brokers=1))
    try:
        yield Backends(
            stack.kafka_bootstrap(),
            settings.effective_database_url,
            "local",
            brokers=len(stack.kafka_nodes()),
        )
    finally:
        if started and os.environ.get("SCADA_TEST_KEEP_STACK") != "1":
            stack.down()


@contextmanager
def _docker_backends() -> Iterator[Backends]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka,
        PostgresContainer(
            "timescale/timescaledb:latest-pg17",
            username="postgres",
            password="postgres",
            dbname="scada",
            driver=None,
        ) as pg,
    ):
        yield Backends(kafka.get_bootstrap_server(), pg.get_connection_url(), "docker")
