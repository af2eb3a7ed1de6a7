"""Historical jobs end to end: real API over HTTP, real workers, Kafka and TimescaleDB."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from base.kafka_clients import durable_producer
from base.kafka_topics import ensure_topics
from historical_service.janitor import remove_leftovers, sweep
from schemas.historical import RunHistoricalQuery
from tests.history import new_user, record_job, store
from tests.pipeline import wait_for

T0 = datetime(2025, 6, 1, tzinfo=UTC)


async def _seed(database_url: str, station: str, count: int) -> None:
    """``count`` readings 10 s apart from T0, written the way the sink writes them."""
    await store(
        database_url,
        station,
        [
            (T0 + timedelta(seconds=10 * i), {"temperature": 20 + i % 7, "rain": float(i % 3)})
            for i in range(count)
        ],
    )


async def _user(database_url: str, stations: list[str], max_days: int = 400) -> str:
    return (await new_user(database_url, stations, max_days))[1]


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _post_job(
    client: httpx.AsyncClient,
    token: str,
    station: str,
    span: timedelta,
    resolution: str,
    *,
    sensors: list[str] | None = None,
    lane: str | None = None,
) -> httpx.Response:
    """Ask for ``span`` of ``station`` from T0 (temperature unless told otherwise)."""
    body: dict[str, Any] = {
        "stations": [station],
        "sensors": sensors or ["temperature"],
        "start": T0.isoformat(),
        "end": (T0 + span).isoformat(),
        "resolution": resolution,
    }
    if lane is not None:
        body["lane"] = lane
    return await client.post("/v1/historical-jobs", headers=_auth(token), json=body)


async def _events(
    client: httpx.AsyncClient, token: str, into: list[dict[str, Any]], ready: asyncio.Event
) -> None:
    async with client.stream("GET", "/v1/events", headers=_auth(token), timeout=None) as stream:
        ready.set()
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                into.append(orjson.loads(line[6:]))


async def _finished(client: httpx.AsyncClient, token: str, job_id: str) -> dict[str, Any]:
    async def check() -> Any:
        job = (await client.get(f"/v1/historical-jobs/{job_id}", headers=_auth(token))).json()
        return job if job["status"] in ("completed", "failed", "cancelled") else None

    return await wait_for(check, timeout=30)  # type: ignore[no-any-return]


async def test_a_raw_job_exports_exactly_the_stored_rows_and_announces_completion(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-h"
    await _seed(database_url, station, 1000)
    token = await _user(database_url, [station])
    other = await _user(database_url, ["*"])
    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    ready, ready_other = asyncio.Event(), asyncio.Event()
    listeners = [
        asyncio.create_task(_events(client, token, mine, ready)),
        asyncio.create_task(_events(client, other, theirs, ready_other)),
    ]
    try:
        await asyncio.wait_for(asyncio.gather(ready.wait(), ready_other.wait()), 10)
        response = await _post_job(
            client, token, station, timedelta(days=1), "raw", sensors=["temperature", "rain"]
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        job = await _finished(client, token, job_id)
        assert job["status"] == "completed"
        assert job["rows_done"] == 2000

        result = await client.get(job["result_url"], headers={**_auth(token), "accept": "text/csv"})
        rows = list(csv.reader(io.StringIO(result.text)))
        assert rows[0] == ["station_id", "ts", "sensor", "value", "unit"]
        assert len(rows) == 1 + 2000
        assert {(r[2], r[4]) for r in rows[1:]} == {("temperature", "°C"), ("rain", "mm")}
        assert {r[0] for r in rows[1:]} == {station}
        # Exactly the stored values, in time order across the job's windows (read two at once).
        exported = [
            (datetime.fromisoformat(ts), sensor, float(v)) for _, ts, sensor, v, _ in rows[1:]
        ]
        assert exported == sorted(exported, key=lambda row: row[0])
        assert sorted(exported) == sorted(
            (T0 + timedelta(seconds=10 * i), sensor, float(value))
            for i in range(1000)
            for sensor, value in (("temperature", 20 + i % 7), ("rain", i % 3))
        )

        assert "/v1/events" in (await client.get("/openapi.json")).json()["paths"]
        page = (await client.get(job["result_url"], headers=_auth(token))).json()
        assert {s["sensor"] for s in page["series"]} == {"temperature", "rain"}
        bad_page = await client.get(f"{job['result_url']}?offset=x", headers=_auth(token))
        assert bad_page.status_code == 422

        await wait_for(lambda: asyncio.sleep(0, any(e["type"] == "completed" for e in mine)))
        assert {e["job_id"] for e in mine} == {job_id}
        # Another user: 404 on the job, and none of its events.
        assert (
            await client.get(f"/v1/historical-jobs/{job_id}", headers=_auth(other))
        ).status_code == 404
        assert theirs == []
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)


async def test_an_aggregated_job_reads_the_rollups(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-agg"
    await _seed(database_url, station, 720)  # two hours of 10 s readings
    token = await _user(database_url, [station])
    response = await _post_job(client, token, station, timedelta(hours=2), "1h")
    job = await _finished(client, token, response.json()["job_id"])
    result = await client.get(job["result_url"], headers={**_auth(token), "accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert [int(r["count"]) for r in rows] == [360, 360]
    assert float(rows[0]["min"]) == 20.0
    assert float(rows[0]["max"]) == 26.0


async def test_a_sensor_no_requested_station_has_reported_is_a_422_naming_it(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station, silent = f"{unique}-typo", f"{unique}-none"
    await _seed(database_url, station, 10)  # temperature and rain
    token = await _user(database_url, [station, silent])
    typo = await _post_job(
        client, token, station, timedelta(hours=1), "raw", sensors=["rain", "temperatur"]
    )
    assert typo.status_code == 422
    assert typo.json()["message"] == "no requested station has reported temperatur"
    assert typo.json()["errors"] == [{"field": "sensors", "reason": typo.json()["message"]}]
    never = await _post_job(client, token, silent, timedelta(hours=1), "raw")
    assert never.status_code == 422  # a station with nothing stored has reported nothing
    fine = await _post_job(client, token, station, timedelta(hours=1), "raw", sensors=["rain"])
    assert fine.status_code == 202


async def test_six_hour_and_daily_buckets_match_the_raw_readings(
    historical: Any, database_url: str, unique: str
) -> None:
    """Read from the 6-hour rollups; every figure equals the raw readings aggregated here."""
    _, client = historical
    station = f"{unique}-6h"
    await _seed(database_url, station, 6 * 2160)  # a day and a half of 10 s readings
    token = await _user(database_url, [station])
    temperatures = [20 + i % 7 for i in range(6 * 2160)]
    for resolution, size in (("6h", 2160), ("1d", 8640)):
        response = await _post_job(client, token, station, timedelta(days=2), resolution)
        job = await _finished(client, token, response.json()["job_id"])
        result = await client.get(job["result_url"], headers={**_auth(token), "accept": "text/csv"})
        rows = list(csv.DictReader(io.StringIO(result.text)))
        groups = [temperatures[i : i + size] for i in range(0, len(temperatures), size)]
        assert [int(r["count"]) for r in rows] == [len(g) for g in groups]
        assert [float(r["avg"]) for r in rows] == pytest.approx([sum(g) / len(g) for g in groups])
        assert [(float(r["min"]), float(r["max"])) for r in rows] == [
            (min(g), max(g)) for g in groups
        ]


async def test_permissions_are_checked_by_the_api_and_again_by_the_worker(
    historical: Any, database_url: str, unique: str, producer: Any
) -> None:
    settings, client = historical
    user_id, token = await new_user(database_url, [f"{unique}-mine"], max_days=7)
    body = {
        "stations": [f"{unique}-theirs"],
        "sensors": ["t"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(days=1)).isoformat(),
    }
    assert (
        await client.post("/v1/historical-jobs", headers=_auth(token), json=body)
    ).status_code == 403
    too_long = {
        **body,
        "stations": [f"{unique}-mine"],
        "end": (T0 + timedelta(days=30)).isoformat(),
    }
    assert (
        await client.post("/v1/historical-jobs", headers=_auth(token), json=too_long)
    ).status_code == 403
    assert (await client.post("/v1/historical-jobs", json=body)).status_code == 401

    # A command written straight onto the topic, for a station the user may not read.
    listing = (await client.get("/v1/historical-jobs", headers=_auth(token))).json()
    assert listing["jobs"] == []
    forged = RunHistoricalQuery(
        job_id=uuid4(),
        user_id=str(user_id),
        org_id="org",
        lane="interactive",
        stations=[f"{unique}-theirs"],
        sensors=["t"],
        start=T0,
        end=T0 + timedelta(days=1),
        resolution="raw",
        requested_at=datetime.now(UTC),
    )
    topic = settings.topics.historical_requests
    await producer.send_and_wait(topic.name, topic.serialize(forged))
    events = settings.topics.historical_events
    consumer = AIOKafkaConsumer(
        events.name,
        bootstrap_servers=settings.effective_kafka_bootstrap,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def refused() -> Any:
            batch = await consumer.getmany(timeout_ms=500)
            seen = [events.deserialize(r.value) for rs in batch.values() for r in rs]
            return [e for e in seen if e.job_id == forged.job_id and e.type == "failed"]

        (event,) = await wait_for(refused, timeout=30)
        assert event.reason == "forbidden"
    finally:
        await consumer.stop()


async def _running_export(
    client: httpx.AsyncClient, database_url: str, station: str
) -> tuple[str, str]:
    """A raw bulk export of 390 one-day windows (long enough to be caught running), running.

    Returns the user's token and the job's id.
    """
    await _seed(database_url, station, 10)
    token = await _user(database_url, [station])
    response = await _post_job(client, token, station, timedelta(days=390), "raw", lane="bulk")
    job_id = response.json()["job_id"]

    async def running() -> Any:
        job = await client.get(f"/v1/historical-jobs/{job_id}", headers=_auth(token))
        return job.json()["status"] == "running"

    await wait_for(running, interval=0.02)
    return token, job_id


async def test_cancelling_a_running_export_stops_it_within_a_second(
    historical: Any, database_url: str, unique: str
) -> None:
    settings, client = historical
    station = f"{unique}-c"
    token, job_id = await _running_export(client, database_url, station)
    url = f"/v1/historical-jobs/{job_id}"
    asked = asyncio.get_running_loop().time()
    assert (await client.delete(url, headers=_auth(token))).status_code == 202

    async def cancelled() -> Any:
        return (await client.get(url, headers=_auth(token))).json()["status"] == "cancelled"

    await wait_for(cancelled, timeout=5, interval=0.02)
    assert asyncio.get_running_loop().time() - asked <= 1.0
    job = (await client.get(url, headers=_auth(token))).json()
    assert job["progress"] < 1.0
    assert (await client.get(f"{url}/result", headers=_auth(token))).status_code == 409
    again = await client.delete(url, headers=_auth(token))  # an ended job: nothing to cancel
    assert again.status_code == 409
    assert again.json()["error"] == "job_ended"
    assert "already ended (cancelled)" in again.json()["message"]
    # The worker is free again: the next export in its lane runs to the end.
    after = await _post_job(client, token, station, timedelta(days=2), "raw", lane="bulk")
    assert (await _finished(client, token, after.json()["job_id"]))["status"] == "completed"
    # Nothing of the cancelled export is left on disk: neither its file nor a window's part.
    left = [p.name for p in settings.effective_results_dir.iterdir()]
    assert [name for name in left if name.startswith(job_id) or not name.endswith(".csv")] == []


async def test_a_worker_that_lost_its_lease_leaves_the_job_to_its_new_owner(
    historical: Any, database_url: str, db: asyncpg.Connection, unique: str
) -> None:
    """A window slower than the lease: another worker took the job over meanwhile."""
    settings, client = historical
    _, job_id = await _running_export(client, database_url, f"{unique}-lease")

    async def own_file_written() -> Any:
        return any(p.name.startswith(job_id) for p in settings.effective_results_dir.iterdir())

    await wait_for(own_file_written, interval=0.01)
    await db.execute(
        "UPDATE historical.jobs SET lease_owner = 'bulk-elsewhere', "
        "lease_expires_at = now() + interval '1 hour' WHERE job_id = $1",
        UUID(job_id),
    )

    async def own_file_removed() -> Any:
        return not any(p.name.startswith(job_id) for p in settings.effective_results_dir.iterdir())

    await wait_for(own_file_removed, timeout=10, interval=0.05)
    await asyncio.sleep(0.5)  # time enough to (wrongly) finish or announce it
    job = await db.fetchrow(
        "SELECT status, lease_owner FROM historical.jobs WHERE job_id = $1", UUID(job_id)
    )
    assert tuple(job) == ("running", "bulk-elsewhere")  # not completed, not cancelled, not ours


async def test_an_interactive_job_is_not_stuck_behind_twenty_bulk_exports(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-lane"
    await _seed(database_url, station, 720)
    token = await _user(database_url, [station])
    for n in range(20):  # twenty different exports (identical ones would share one job)
        span = timedelta(days=390, seconds=n)
        export = await _post_job(client, token, station, span, "raw", lane="bulk")
        assert export.status_code == 202
    posted = asyncio.get_running_loop().time()
    chart = await _post_job(client, token, station, timedelta(hours=2), "1h")
    assert chart.json()["lane"] == "interactive"
    job = await _finished(client, token, chart.json()["job_id"])
    assert job["status"] == "completed"
    assert asyncio.get_running_loop().time() - posted < 1.0
    listed = (await client.get("/v1/historical-jobs", headers=_auth(token))).json()["jobs"]
    assert sum(j["lane"] == "bulk" and j["status"] != "completed" for j in listed) > 0


async def test_a_job_whose_worker_is_killed_completes_on_another(
    historical: Any, database_url: str, unique: str, tmp_path: Path
) -> None:
    settings, client = historical
    station = f"{unique}-k"
    await _seed(database_url, station, 10)
    user_id, token = await new_user(database_url, [station])
    env = {
        **os.environ,
        "SCADA_KAFKA_BOOTSTRAP": settings.effective_kafka_bootstrap,
        "SCADA_DATABASE_URL": database_url,
        "SCADA_TOPIC_NAMESPACE": f"{unique}-own",
        "SCADA_WORKER_GROUP": f"{unique}.own-workers",
        "SCADA_WORKER_METRICS_PORT": "0",
        "SCADA_RESULTS_DIR": str(tmp_path / "own-results"),
        "SCADA_LEASE_SECONDS": "3",
    }

    def start_worker(name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "historical_service", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    # The in-process workers read the fixture's topics; these read a namespace of their own.
    own = settings.model_copy(update={"topic_namespace": f"{unique}-own"})
    first = start_worker("first")
    try:
        job_id = uuid4()
        command = RunHistoricalQuery(
            job_id=job_id,
            user_id=str(user_id),
            org_id="org",
            lane="bulk",
            stations=[station],
            sensors=["temperature"],
            start=T0,
            end=T0 + timedelta(days=390),
            resolution="raw",
            requested_at=datetime.now(UTC),
        )
        await ensure_topics(own.effective_kafka_bootstrap, own.topics.all())
        await record_job(database_url, command)
        producer = durable_producer(own.effective_kafka_bootstrap, client_id="test")
        await producer.start()
        try:
            topic = own.topics.historical_requests
            await producer.send_and_wait(topic.name, topic.serialize(command))
        finally:
            await producer.stop()

        async def status() -> str:
            job = (await client.get(f"/v1/historical-jobs/{job_id}", headers=_auth(token))).json()
            return str(job.get("status"))

        await wait_for(lambda: _is(status, "running"), timeout=60, interval=0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start_worker("second")
        try:
            await wait_for(lambda: _is(status, "completed"), timeout=60, interval=0.2)
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        first.kill()
        first.wait()


async def _is(probe: Any, wanted: str) -> bool:
    return bool(await probe() == wanted)


async def test_janitor_removes_expired_results_and_fails_lost_jobs(
    historical: Any, database_url: str, unique: str, producer: Any, tmp_path: Path
) -> None:
    settings, client = historical
    user_id, token = await new_user(database_url, [f"{unique}-j"])
    stale = tmp_path / "stale.csv"
    stale.write_text("station_id,ts,sensor,value\n")
    lost, done = uuid4(), uuid4()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        for job_id, status in ((lost, "running"), (done, "completed")):
            await pool.execute(
                "INSERT INTO historical.jobs (job_id, user_id, lane, stations, sensors, "
                "range_start, range_end, resolution, status, lease_expires_at, result_path, "
                "result_expires_at) VALUES ($1, $2, 'bulk', '{x}', '{t}', now(), now(), 'raw', "
                "$3, now() - interval '10 minutes', $4, now() - interval '1 minute')",
                job_id,
                user_id,
                status,
                str(stale) if status == "completed" else None,
            )
        removed, failed = await sweep(pool, producer, settings.topics)
        assert (removed, failed) >= (1, 1)
        assert not stale.exists()
        job = (await client.get(f"/v1/historical-jobs/{lost}", headers=_auth(token))).json()
        assert (job["status"], job["error"].split(":")[0]) == ("failed", "worker_lost")
        gone = await client.get(f"/v1/historical-jobs/{done}/result", headers=_auth(token))
        assert gone.status_code == 410

        # Files of attempts that are over: a crashed worker's result and part, untouched
        # for an hour, go; one still being written (touched now) and the result stay.
        results = settings.effective_results_dir
        results.mkdir(parents=True, exist_ok=True)
        old = [results / f"{lost}.bulk-dead.csv", results / f"{lost}.bulk-dead.csv.3.part"]
        recent = results / f"{lost}.bulk-slow.csv"
        kept = results / f"{done}.bulk-live.csv"
        for path in [*old, recent, kept]:
            path.write_text("station_id,ts,sensor,value\n")
        for path in [*old, kept]:
            os.utime(path, (time.time() - 3600, time.time() - 3600))
        await pool.execute(
            "UPDATE historical.jobs SET result_path = $2 WHERE job_id = $1", done, str(kept)
        )
        assert await remove_leftovers(pool, results) == 2
        assert sorted(p.name for p in results.iterdir() if p.name.startswith(str(lost))) == [
            recent.name
        ]
        assert kept.exists()
    finally:
        await pool.close()


async def test_the_same_query_while_its_job_runs_reuses_that_job(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-r"
    await _seed(database_url, station, 10)
    token = await _user(database_url, [station])
    query = (station, timedelta(days=390), "raw")
    first = (await _post_job(client, token, *query, lane="bulk")).json()
    second = (await _post_job(client, token, *query, lane="bulk")).json()
    assert second["job_id"] == first["job_id"]
    assert second["reused"] is True
    other = await _user(database_url, [station])
    theirs = (await _post_job(client, other, *query, lane="bulk")).json()
    assert theirs["job_id"] != first["job_id"]  # never another user's job


async def test_events_resume_after_a_disconnect_with_last_event_id(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-sse"
    await _seed(database_url, station, 100)
    token = await _user(database_url, [station])

    async def read(last_event_id: str | None, until: str) -> list[tuple[str, str]]:
        """(id, type) of events until one of type ``until`` arrives."""
        headers = _auth(token) | ({"last-event-id": last_event_id} if last_event_id else {})
        seen: list[tuple[str, str]] = []
        event_id = ""
        async with client.stream("GET", "/v1/events", headers=headers, timeout=None) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("event: "):
                    seen.append((event_id, line[7:]))
                    if line[7:] == until:
                        return seen
                elif line.startswith(": connected") and not seen and last_event_id is None:
                    ready.set()
        return seen

    ready = asyncio.Event()
    first = asyncio.create_task(read(None, "queued"))
    await asyncio.wait_for(ready.wait(), 10)
    job = await _post_job(client, token, station, timedelta(days=1), "raw")
    ((queued_id, kind),) = await asyncio.wait_for(first, 10)  # then the client goes away
    assert kind == "queued"
    await _finished(client, token, job.json()["job_id"])

    missed = await asyncio.wait_for(read(queued_id, "completed"), 15)
    assert [kind for _, kind in missed][-1] == "completed"
    assert "queued" not in [kind for _, kind in missed]
    assert all(event_id.startswith("v1:") for event_id, _ in missed)


async def test_a_finished_result_is_reused_until_new_data_arrives_in_its_range(
    historical: Any, database_url: str, unique: str
) -> None:
    _, client = historical
    station = f"{unique}-fresh"
    await _seed(database_url, station, 50)
    token = await _user(database_url, [station])
    query = (station, timedelta(days=1), "raw")
    first = (await _post_job(client, token, *query)).json()
    await _finished(client, token, first["job_id"])
    again = (await _post_job(client, token, *query)).json()
    assert (again["job_id"], again["status"], again["reused"]) == (
        first["job_id"],
        "completed",
        True,
    )

    # a late reading inside the range
    await store(database_url, station, [(T0 + timedelta(hours=20), {"temperature": 1.0})])
    fresh = (await _post_job(client, token, *query)).json()
    assert fresh["job_id"] != first["job_id"]
    job = await _finished(client, token, fresh["job_id"])
    assert job["rows_done"] == 51
