"""Session fixtures: real Kafka and TimescaleDB, unique names per test, strict hygiene.

- ``tests/unit`` needs no servers (seconds); ``tests/integration`` runs the services
  in-process against real Kafka and TimescaleDB; ``tests/e2e`` drives the browser,
  kills processes and starts clusters of its own. The stack starts only when a test
  first asks for ``backends``.

- Warnings are errors (pyproject); a client left unclosed emits a
  ResourceWarning when collected, and ``_no_leaks`` collects after each test
  so it fails the test that leaked it.
- An exception the event loop logged (a task that died unobserved) fails the test.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from base.storage.database import prepare_database
from tests.backends import Backends, provide_backends

LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder (``-m unit`` = ``tests/unit``)."""
    for item in items:
        folder = item.path.parent.name
        if folder in LAYERS:
            item.add_marker(folder)


@pytest.fixture(scope="session")
def backends(pytestconfig: pytest.Config) -> Iterator[Backends]:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def say(line: str) -> None:
        # Starting the stack can take minutes on a fresh machine: show progress live.
        with capture.global_and_fixture_disabled():
            print(f"[stack] {line}", flush=True)

    with provide_backends(say) as provided:
        yield provided


@pytest.fixture(scope="session")
def kafka_bootstrap(backends: Backends) -> str:
    return backends.kafka_bootstrap


@pytest.fixture(scope="session")
async def database_url(backends: Backends) -> str:
    """The suite's migrated database (tests keep to their own station ids)."""
    await prepare_database(backends.database_url)
    return backends.database_url


@pytest.fixture(scope="session")
async def _test_names(kafka_bootstrap: str) -> AsyncIterator[set[str]]:
    """Every ``unique`` name handed out; their topics are deleted when the session ends.

    A broker that keeps thousands of test partitions starts and creates topics
    slowly, and the stack's broker outlives test runs. Deleting at the end, not
    after each test, keeps a deletion from racing a client a fixture has yet
    to close.
    """
    names: set[str] = set()
    yield names
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        async with asyncio.timeout(60):
            await admin.start()
            doomed = [t for t in await admin.list_topics() if any(n in t for n in names)]
            if doomed:
                await admin.delete_topics(doomed)
    except (KafkaError, TimeoutError):
        pass  # best effort: a broker that is gone keeps its topics
    finally:
        await admin.close()


@pytest.fixture
def unique(_test_names: set[str]) -> str:
    """A short name unique to this test, for topics, groups, stations and schemas."""
    name = f"t{uuid.uuid4().hex[:12]}"
    _test_names.add(name)
    return name


@pytest.fixture
async def fresh_database(backends: Backends, unique: str) -> AsyncIterator[str]:
    """An empty database of this test's own, dropped afterwards; yields its URL."""
    base, _, _ = backends.database_url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{unique}"')
        yield f"{base}/{unique}"
        await admin.execute(f'DROP DATABASE "{unique}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


@pytest.fixture
async def consumer_factory(kafka_bootstrap: str) -> AsyncIterator[Any]:
    started: list[AIOKafkaConsumer] = []

    async def make(*topics: str, group_id: str | None = None) -> AIOKafkaConsumer:
        client = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=kafka_bootstrap,
            group_id=group_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await client.start()
        started.append(client)
        return client

    try:
        yield make
    finally:
        for client in started:
            await client.stop()


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
async def _loop_errors_fail_the_test() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield
    await asyncio.sleep(0)
    loop.set_exception_handler(previous)
    assert not errors, f"the event loop logged unhandled errors: {errors}"


@pytest.fixture
def gateway_settings(backends: Backends, database_url: str, unique: str) -> Any:
    from ingest_gateway.settings import GatewaySettings

    return GatewaySettings(
        kafka_bootstrap=backends.kafka_bootstrap,
        database_url=database_url,
        topic_namespace=unique,
        produce_timeout_seconds=3.0,
    )


@pytest.fixture
def processor_settings(backends: Backends, database_url: str, unique: str) -> Any:
    from stream_processors.settings import ProcessorSettings

    return ProcessorSettings(
        kafka_bootstrap=backends.kafka_bootstrap,
        database_url=database_url,
        topic_namespace=unique,
        consumer_group=f"{unique}.sink",
        alarm_sink_group=f"{unique}.alarms",
        batch_max_wait_ms=50,
        metrics_port=0,
    )


@pytest.fixture
async def historical(
    backends: Backends, database_url: str, unique: str, tmp_path: Path
) -> AsyncIterator[tuple[Any, Any]]:
    """This test's historical API and workers, running: (settings, HTTP client)."""
    from tests.history import historical_app

    async with historical_app(
        backends.kafka_bootstrap, database_url, unique, tmp_path / "results"
    ) as running:
        yield running
