"""The database killed (SIGKILL) or frozen (SIGSTOP) under load: stations keep getting 202s.

The test runs a TimescaleDB server of its own (the stack's root filesystem, its
own data directory and port), so that killing it leaves the suite's alone. A
load of POSTs runs throughout; the gateway must answer every one with a 202
(its request path reads memory, the local store and Kafka only), and once the
server is back every acknowledged reading is stored exactly once and every
ingest's receipt is complete.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from base.settings import PlatformSettings
from base.storage.database import prepare_database
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.history import historical_settings, new_user, running_historical, store
from tests.pipeline import (
    Gateway,
    assert_stored_exactly_once,
    make_token,
    readings,
    running_gateway,
    running_sink,
    wait_for,
)
from tooling.local_stack.timescaledb import TimescaleServer

# Below Linux's ephemeral range (32768-60999): a client retrying a dead port there can
# be handed that very port for its own socket and connect to itself.
PORT = 25433
START = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimescaleServer]:
    rootfs = PlatformSettings().cache_dir / "timescaledb-trixie"
    server = TimescaleServer(tmp_path_factory.mktemp("outage"), rootfs, port=PORT)
    server.prepare()
    try:
        yield server
    finally:
        server.process.stop(sig=signal.SIGKILL, timeout=5)


async def _ready(url: str, timeout: float = 60) -> None:
    async def answers() -> bool:
        try:
            conn = await asyncpg.connect(url, timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    await wait_for(answers, timeout=timeout, interval=0.2)


@pytest.fixture
async def database(own_server: TimescaleServer) -> AsyncIterator[str]:
    """The own server running, with a migrated ``scada`` database; its URL."""
    own_server.start()
    admin = f"postgresql://postgres@127.0.0.1:{PORT}/postgres"
    await _ready(admin)
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'scada'"):
            await conn.execute("CREATE DATABASE scada")
    finally:
        await conn.close()
    url = f"postgresql://postgres@127.0.0.1:{PORT}/scada"
    await prepare_database(url)
    try:
        yield url
    finally:
        own_server.process.stop(timeout=10)


@dataclass
class Load:
    """POSTs of ``size`` new readings every ``every`` seconds, as stations would send them."""

    gateway: Gateway
    stations: list[str]
    size: int = 400
    every: float = 0.1
    statuses: list[int] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    readings: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            start = START + timedelta(hours=n)  # every request its own hour: all distinct
            answer = await self.gateway.post(readings(self.stations, self.size, start=start))
            self.statuses.append(answer.status_code)
            if answer.status_code == 202:
                self.accepted.append(answer.json()["ingest_id"])
                self.readings += self.size
            n += 1
            await asyncio.sleep(self.every)


def _postgres_processes(postmaster: int) -> list[int]:
    """The postmaster and its children (backends, checkpointer, ...)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


@pytest.mark.parametrize("fault", ["sigkill", "sigstop"])
async def test_stations_keep_getting_202s_while_the_database_is_down(
    fault: str,
    own_server: TimescaleServer,
    database: str,
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    unique: str,
) -> None:
    stations = [f"{unique}-{i}" for i in range(4)]
    token = await make_token(database, "org-a", stations)
    gateway_on_own = gateway_settings.model_copy(update={"database_url": database})
    sink_on_own = processor_settings.model_copy(update={"database_url": database})
    outage_seconds = 6.0
    async with running_gateway(gateway_on_own, token) as gateway, running_sink(sink_on_own):
        load = Load(gateway, stations)
        stop = asyncio.Event()
        loading = asyncio.create_task(load.run(stop))
        await asyncio.sleep(2)
        postmaster = own_server.process.pid()
        assert postmaster is not None
        before = len(load.statuses)
        down_at = time.monotonic()
        if fault == "sigkill":
            os.kill(postmaster, signal.SIGKILL)
            await asyncio.sleep(outage_seconds)
            during = load.statuses[before:]
            own_server.start()
        else:
            frozen = _postgres_processes(postmaster)
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
            await asyncio.sleep(outage_seconds / 2)
            # A status the station can read while the database cannot be asked.
            status = await gateway.client.get(
                f"/v1/ingests/{load.accepted[-1]}", headers={"authorization": f"Bearer {token}"}
            )
            assert (status.status_code, status.json()["state"]) == (200, "accepted")
            assert status.json()["persisted_count"] is None
            await asyncio.sleep(outage_seconds / 2)
            during = load.statuses[before:]
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        await _ready(database)
        await asyncio.sleep(2)
        stop.set()
        await loading
        assert len(during) >= outage_seconds / 0.5, during  # the gateway kept answering, fast
        assert set(load.statuses) == {202}, sorted(set(load.statuses))

        db = await asyncpg.connect(database)
        try:

            async def all_stored() -> Any:
                return (
                    await db.fetchval(
                        "SELECT count(*) FROM telemetry.station_readings "
                        "WHERE station_id = ANY($1::text[])",
                        stations,
                    )
                    == load.readings
                    or None
                )

            await wait_for(all_stored, timeout=120, interval=0.5)
            await assert_stored_exactly_once(db, stations, load.readings)
            for ingest_id in load.accepted:
                status = await gateway.client.get(
                    f"/v1/ingests/{ingest_id}", headers={"authorization": f"Bearer {token}"}
                )
                body = status.json()
                assert (body["state"], body["persisted_count"]) == ("completed", load.size), body
        finally:
            await db.close()
    print(
        f"{fault}: {len(load.statuses)} POSTs, all 202, {len(during)} during "
        f"{outage_seconds:.0f} s down; recovered {time.monotonic() - down_at:.1f} s after the fault"
    )


@pytest.fixture
async def _loop_errors_fail_the_test() -> AsyncIterator[None]:
    """As the suite's, but for one message asyncpg itself leaves when its server dies.

    A COPY cut by the server's SIGKILL can leave asyncpg's own waiter future holding
    ``ConnectionDoesNotExistError`` with nobody to retrieve it (asyncpg's protocol, not
    ours: the error our code awaits is the same one, and it is handled). Anything
    else the loop logs still fails the test.
    """
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield
    await asyncio.sleep(0)
    loop.set_exception_handler(previous)
    unexpected = [
        e
        for e in errors
        if not (
            e.get("message") == "Future exception was never retrieved"
            and isinstance(e.get("exception"), asyncpg.ConnectionDoesNotExistError)
        )
    ]
    assert not unexpected, f"the event loop logged unhandled errors: {unexpected}"


async def test_a_job_running_when_the_database_is_killed_ends_never_stuck_running(
    own_server: TimescaleServer,
    database: str,
    kafka_bootstrap: str,
    unique: str,
    tmp_path: Path,
) -> None:
    station = f"{unique}-export"
    day = [(START + timedelta(seconds=10 * i), {"t": float(i)}) for i in range(8640)]
    for n in range(20):  # 20 days of 10 s readings: an export long enough to be caught running
        await store(database, station, [(ts + timedelta(days=n), v) for ts, v in day])
    settings = historical_settings(kafka_bootstrap, database, unique, tmp_path / "results")
    settings = settings.model_copy(update={"lease_seconds": 3.0})
    _, token = await new_user(database, [station])
    auth = {"authorization": f"Bearer {token}"}
    async with running_historical(settings) as client:
        job = {
            "stations": [station],
            "sensors": ["t"],
            "start": START.isoformat(),
            "end": (START + timedelta(days=20)).isoformat(),
            "resolution": "raw",
            "lane": "bulk",
        }
        job_id = (await client.post("/v1/historical-jobs", headers=auth, json=job)).json()["job_id"]

        async def status() -> Any:
            answer = await client.get(f"/v1/historical-jobs/{job_id}", headers=auth)
            return answer.json()["status"] if answer.status_code == 200 else answer.status_code

        await wait_for(lambda: _is(status, "running"), timeout=30, interval=0.02)
        postmaster = own_server.process.pid()
        assert postmaster is not None
        os.kill(postmaster, signal.SIGKILL)
        await asyncio.sleep(1)
        assert await status() == 503  # the API says "retry", not 500
        await asyncio.sleep(4)
        own_server.start()
        await _ready(database)

        async def ended() -> Any:
            current = await status()
            return current if current in ("completed", "failed") else None

        outcome = await wait_for(ended, timeout=120, interval=0.5)
    print(f"job running at the kill: {outcome} after the restart")


async def _is(probe: Any, wanted: str) -> bool:
    return bool(await probe() == wanted)
