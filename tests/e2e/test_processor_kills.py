"""Two stream processors in one group, one SIGKILLed ten times in two minutes of load.

Partitions move all the time: a member killed mid-batch is fenced when its
session times out and its partitions go to the survivor, the restarted member
joins and takes some back. Batches are written, re-read and written again;
offsets are committed only after the database committed, and the write is
idempotent, so every acknowledged reading is stored exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests import pipeline
from tests.pipeline import (
    assert_stored_exactly_once,
    make_token,
    readings,
    running_gateway,
    wait_for,
)

START = datetime(2026, 4, 1, tzinfo=UTC)
LOAD_SECONDS = 120
KILLS = 10


async def test_ten_sigkills_of_a_processor_under_load_store_each_reading_once(
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
    tmp_path: Path,
) -> None:
    stations = [f"{unique}-{i}" for i in range(6)]
    token = await make_token(database_url, "org-a", stations)
    started = 0

    def start_processor() -> subprocess.Popen[bytes]:
        nonlocal started
        started += 1
        log = tmp_path / f"processor-{started}.log"
        return pipeline.start_processor(processor_settings, database_url, log)

    accepted: list[str] = []
    per_request = 600
    async with running_gateway(gateway_settings, token) as gateway:

        async def load(stop: asyncio.Event) -> None:
            n = 0
            while not stop.is_set():
                items = readings(stations, per_request, start=START + timedelta(hours=n))
                answer = await gateway.post(items)
                assert answer.status_code == 202, answer.text
                accepted.append(answer.json()["ingest_id"])
                n += 1
                await asyncio.sleep(0.25)

        members = [start_processor(), start_processor()]
        stop = asyncio.Event()
        loading = asyncio.create_task(load(stop))
        try:
            for kill in range(KILLS):
                await asyncio.sleep(LOAD_SECONDS / KILLS)
                victim = members[kill % 2]
                victim.send_signal(signal.SIGKILL)
                assert victim.wait(timeout=10) == -signal.SIGKILL
                members[kill % 2] = start_processor()
            stop.set()
            await loading

            async def all_stored() -> Any:
                done = await db.fetchval(
                    "SELECT count(*) FROM ingest.persisted_messages "
                    "WHERE ingest_id = ANY($1::uuid[])",
                    accepted,
                )
                return done == len(accepted) * len(stations) or None

            await wait_for(all_stored, timeout=180, interval=0.5)
        finally:
            stop.set()
            for member in members:
                member.terminate()
            for member in members:
                member.wait(timeout=30)
    await assert_stored_exactly_once(db, stations, len(accepted) * per_request)
    persisted = await db.fetchval(
        "SELECT sum(persisted) FROM ingest.persisted_messages WHERE ingest_id = ANY($1::uuid[])",
        accepted,
    )
    assert persisted == len(accepted) * per_request
    print(
        f"{KILLS} SIGKILLs in {LOAD_SECONDS} s, {started} processes: "
        f"{len(accepted)} POSTs, {persisted} readings stored once"
    )
