"""Records and jobs that cannot be stored or run: each fails alone, the process goes on.

Fed to the running processes the way an attacker or a bug would: records written
straight onto the readings topic past the gateway's checks, jobs whose row holds
what no worker can run, requests that once stopped a process.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import orjson

from historical_service.settings import HistoricalSettings
from ingest_gateway.settings import GatewaySettings
from schemas.historical import RunHistoricalQuery
from stream_processors.settings import ProcessorSettings
from tests.history import new_user, record_job, store
from tests.pipeline import make_token, readings, running_gateway, running_sink, wait_for

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def _message(station: str, ts: str, values: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "schema_version": 1,
            "ingest_id": str(uuid4()),
            "org_id": "org-a",
            "station_id": station,
            "chunk": 0,
            "accepted_at": datetime.now(UTC).isoformat(),
            "readings": [{"ts": ts, "values": values}],
        }
    )


async def test_records_the_core_cannot_store_are_dead_lettered_and_the_sink_goes_on(
    processor_settings: ProcessorSettings,
    gateway_settings: GatewaySettings,
    producer: Any,
    consumer_factory: Any,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    station = f"{unique}-h"
    token = await make_token(database_url, "org-a", [station])
    topics = processor_settings.topics
    hostile = {
        # Year 0 in UTC: raised OverflowError in every processor that took the partition.
        "ancient": _message(station, "0001-01-01T00:30:00+01:00", {"t": 1.0}),
        # Rollup sums past the largest double: PostgreSQL refuses the row.
        "huge": _message(station, "2026-02-01T00:00:00Z", {"t": 1e308}),
        "not_json": b"\xff\xfe{",
    }
    async with (
        running_gateway(gateway_settings, token) as gateway,
        running_sink(processor_settings) as sink,
    ):
        for value in hostile.values():
            await producer.send_and_wait(topics.readings.name, value, key=station.encode())
        assert (await gateway.post(readings([station], 20))).status_code == 202

        async def stored() -> Any:
            return await db.fetchval(
                "SELECT count(*) = 20 FROM telemetry.station_readings WHERE station_id = $1",
                station,
            )

        await wait_for(stored)
        assert not sink.done()  # the same process stored the good records after the bad
    dlq = await consumer_factory(topics.readings_dlq.name)
    records = [r for batch in (await dlq.getmany(timeout_ms=10_000)).values() for r in batch]
    letters = [topics.readings_dlq.deserialize(r.value) for r in records]
    assert len(letters) == 3
    payloads = {letter.payload for letter in letters if letter.payload_encoding == "utf-8"}
    assert payloads == {hostile["ancient"].decode(), hostile["huge"].decode()}
    assert all(letter.reason.startswith("invalid message") for letter in letters)
    assert any("1970-01-01" in letter.reason for letter in letters)


async def test_a_job_that_cannot_run_fails_and_the_worker_runs_the_next(
    historical: tuple[HistoricalSettings, httpx.AsyncClient],
    database_url: str,
    producer: Any,
    unique: str,
) -> None:
    settings, client = historical
    station = f"{unique}-j"
    await store(
        database_url, station, [(T0 + timedelta(seconds=10 * i), {"t": i}) for i in range(30)]
    )
    user_id, token = await new_user(database_url, [station])
    auth = {"authorization": f"Bearer {token}"}

    # A row no worker can run (written past the API, which refuses such a resolution).
    broken = RunHistoricalQuery(
        job_id=uuid4(),
        user_id=str(user_id),
        org_id="org",
        lane="interactive",
        stations=[station],
        sensors=["t"],
        start=T0,
        end=T0 + timedelta(hours=1),
        resolution="now and then",
        requested_at=datetime.now(UTC),
    )
    await record_job(database_url, broken)
    topic = settings.topics.historical_requests
    await producer.send_and_wait(
        topic.name, topic.serialize(broken), key=str(broken.job_id).encode()
    )

    async def status(job_id: str) -> Any:
        return (await client.get(f"/v1/historical-jobs/{job_id}", headers=auth)).json()

    failed = await wait_for(
        lambda: _when(status(str(broken.job_id)), lambda j: j["status"] == "failed"), timeout=30
    )
    assert "is not a duration" in failed["error"]

    good = await client.post(
        "/v1/historical-jobs",
        headers=auth,
        json={
            "stations": [station],
            "sensors": ["t"],
            "start": T0.isoformat(),
            "end": (T0 + timedelta(hours=1)).isoformat(),
            "resolution": "raw",
            "lane": "interactive",
        },
    )
    assert good.status_code == 202
    done = await wait_for(
        lambda: _when(status(good.json()["job_id"]), lambda j: j["status"] == "completed"),
        timeout=30,
    )
    assert done["rows_done"] == 30


async def test_a_command_that_does_not_match_its_job_row_is_not_run(
    historical: tuple[HistoricalSettings, httpx.AsyncClient],
    database_url: str,
    producer: Any,
    unique: str,
) -> None:
    """J's owner must not get B's data by a command naming job J with B's stations."""
    settings, client = historical
    mine, theirs = f"{unique}-mine", f"{unique}-theirs"
    for station in (mine, theirs):
        await store(database_url, station, [(T0, {"t": 1.0})])
    owner_id, owner_token = await new_user(database_url, [mine])
    other_id, _ = await new_user(database_url, [theirs])
    auth = {"authorization": f"Bearer {owner_token}"}
    job = RunHistoricalQuery(
        job_id=uuid4(),
        user_id=str(owner_id),
        org_id="org",
        lane="interactive",
        stations=[mine],
        sensors=["t"],
        start=T0,
        end=T0 + timedelta(hours=1),
        resolution="raw",
        requested_at=datetime.now(UTC),
    )
    await record_job(database_url, job)
    forged = job.model_copy(update={"user_id": str(other_id), "stations": [theirs]})
    topic = settings.topics.historical_requests
    await producer.send_and_wait(topic.name, topic.serialize(forged), key=str(job.job_id).encode())
    await producer.send_and_wait(topic.name, topic.serialize(job), key=str(job.job_id).encode())

    async def completed() -> Any:
        view = (await client.get(f"/v1/historical-jobs/{job.job_id}", headers=auth)).json()
        return view if view["status"] == "completed" else None

    await wait_for(completed, timeout=30)
    result = await client.get(f"/v1/historical-jobs/{job.job_id}/result", headers=auth)
    assert {s["station_id"] for s in result.json()["series"]} == {mine}


async def test_the_api_refuses_intervals_and_instants_no_worker_could_run(
    historical: tuple[HistoricalSettings, httpx.AsyncClient], database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-api"
    _, token = await new_user(database_url, [station])
    auth = {"authorization": f"Bearer {token}"}
    base = {
        "stations": [station],
        "sensors": ["t"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(days=1)).isoformat(),
    }
    for resolution in ("3000000d", "1000000w", "99999999999d"):
        answer = await client.post(
            "/v1/historical-jobs", headers=auth, json={**base, "resolution": resolution}
        )
        assert answer.status_code == 422, answer.text
        assert "3660 days" in answer.json()["message"]
    ancient = await client.post(
        "/v1/historical-jobs", headers=auth, json={**base, "start": "0001-01-01T00:30:00+01:00"}
    )
    assert ancient.status_code == 422
    assert ancient.json()["errors"][0]["field"] == "start"


async def _when(fetch: Any, accept: Any) -> Any:
    value = await fetch
    return value if accept(value) else None


async def test_text_cells_of_a_csv_export_cannot_be_read_as_formulas(
    historical: tuple[HistoricalSettings, httpx.AsyncClient], database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"-{unique}"  # a valid id that a spreadsheet would evaluate as arithmetic
    await store(database_url, station, [(T0, {"-1-2": 3.0})])
    _, token = await new_user(database_url, [station])
    auth = {"authorization": f"Bearer {token}"}
    job = {
        "stations": [station],
        "sensors": ["-1-2"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=1)).isoformat(),
        "resolution": "raw",
    }
    job_id = (await client.post("/v1/historical-jobs", headers=auth, json=job)).json()["job_id"]

    async def done() -> Any:
        view = (await client.get(f"/v1/historical-jobs/{job_id}", headers=auth)).json()
        return view["status"] == "completed"

    await wait_for(done, timeout=30)
    url = f"/v1/historical-jobs/{job_id}/result"
    csv_text = (await client.get(url, headers={**auth, "accept": "text/csv"})).text
    assert csv_text.splitlines()[1].startswith(f"'{station},")
    assert ",'-1-2,3" in csv_text.splitlines()[1]
    page = (await client.get(url, headers=auth)).json()
    assert [(s["station_id"], s["sensor"]) for s in page["series"]] == [(station, "-1-2")]
