"""The operator commands, run as a user runs them, against the real Kafka and database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from base.kafka_topics import describe_topics, ensure_topics
from historical_service import jobs
from schemas.historical import RunHistoricalQuery
from schemas.readings import Reading, ReadingDeadLettered, StationReadingsAccepted
from schemas.readings_codec import decode
from schemas.topics import TopicSet
from stream_processors.dead_letters import dead_letter_for_message
from tests.backends import Backends
from tests.history import free_port

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def test_tokens_and_users_print_their_secret_last_and_jobs_list_as_json(
    backends: Backends, database_url: str, unique: str
) -> None:
    token = backends.scada("tokens", "create", "--org", unique, "--stations", f"{unique}-a")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("scada_")
    user = backends.scada("users", "create", f"{unique}-u", "--org", unique, "--stations", "*")
    assert user.returncode == 0, user.stderr
    assert user.stdout.strip().splitlines()[-1].startswith("scadau_")
    listed = backends.scada("jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    missing = backends.scada("jobs", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1
    assert "no such job" in missing.stderr


def test_json_output_is_one_document_on_stdout(
    backends: Backends, database_url: str, unique: str
) -> None:
    made = backends.scada(
        "tokens", "create", "--org", unique, "--stations", f"{unique}-a", "--json"
    )
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    assert token["token"].startswith("scada_")
    assert token["stations"] == [f"{unique}-a"]
    tokens = json.loads(backends.scada("tokens", "list", "--json").stdout)
    assert token["token_id"] in {t["token_id"] for t in tokens}
    revoked = backends.scada("tokens", "revoke", token["token_id"], "--json")
    assert json.loads(revoked.stdout) == {"token_id": token["token_id"], "revoked": True}
    user = backends.scada(
        "users", "create", f"{unique}-j", "--org", unique, "--stations", "*", "--json"
    )
    assert json.loads(user.stdout)["token"].startswith("scadau_")


# -- scada lag ----------------------------------------------------------------------------


async def _commit_as_the_sink_does(
    bootstrap: str, group: str, offsets: dict[TopicPartition, int]
) -> None:
    """Commit only partitions the group consumed from, as the sink and the workers do."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_lag_counts_every_partition_also_those_the_group_never_committed(
    backends: Backends, producer: AIOKafkaProducer, unique: str
) -> None:
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, topics.all())
    topic = topics.readings.name
    count = (await describe_topics(backends.kafka_bootstrap, [topic]))[topic]
    assert count == 12
    # Stations hash to some partitions only: here none reached 5 and 6.
    reached = [p for p in range(count) if p not in (5, 6)]
    for p in reached:
        for _ in range(2):
            await producer.send_and_wait(topic, b"{}", key=b"k", partition=p)
    group = f"{unique}.sink"
    await _commit_as_the_sink_does(
        backends.kafka_bootstrap, group, {TopicPartition(topic, p): 2 for p in reached}
    )

    rows = json.loads(backends.scada("lag", "--group", group, "--json").stdout)
    assert [r["partition"] for r in rows] == list(range(count))
    assert {r["partition"] for r in rows if r["committed"] is None} == {5, 6}
    assert sum(r["messages"] for r in rows) == 0
    shown = backends.scada("lag", "--group", group, "--all")
    assert shown.returncode == 0, shown.stderr
    partitions = [line.split()[2] for line in shown.stdout.splitlines() if line.startswith(group)]
    assert partitions == [str(p) for p in range(count)]

    # A message reaching a never-committed partition is lag, not invisible.
    for _ in range(3):
        await producer.send_and_wait(topic, b"{}", key=b"k", partition=5)
    behind = backends.scada("lag", "--group", group)
    assert behind.returncode == 0, behind.stderr
    lines = behind.stdout.strip().splitlines()
    (row,) = [line.split() for line in lines if line.startswith(group)]
    assert (row[2], row[3], row[5]) == ("5", "-", "3")
    assert lines[-1].startswith("1 group, 3 messages behind in all")


def test_lag_says_when_no_group_has_committed_anything(backends: Backends, unique: str) -> None:
    shown = backends.scada("lag", "--group", f"{unique}.nobody")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "no consumer groups have committed offsets"
    assert json.loads(backends.scada("lag", "--group", f"{unique}.nobody", "--json").stdout) == []


def _scada_process(backends: Backends, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SCADA_DATABASE_URL": backends.database_url,
        "SCADA_KAFKA_BOOTSTRAP": backends.kafka_bootstrap,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tooling", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def test_lag_watch_redraws_until_ctrl_c_and_then_ends_cleanly(
    backends: Backends, producer: AIOKafkaProducer, unique: str
) -> None:
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, topics.all())
    tp = TopicPartition(topics.readings.name, 0)
    await producer.send_and_wait(tp.topic, b"{}", key=b"k", partition=0)
    group = f"{unique}.watched"
    await _commit_as_the_sink_does(backends.kafka_bootstrap, group, {tp: 0})

    watching = _scada_process(
        backends, "lag", "--group", group, "--watch", "--interval", "0.5", "--json"
    )
    assert watching.stdout is not None
    try:
        lines = [watching.stdout.readline() for _ in range(2)]  # two redraws, one line each
    finally:
        watching.send_signal(signal.SIGINT)
        _, stderr = watching.communicate(timeout=60)
    assert all(lines), stderr
    for frame in map(json.loads, lines):
        assert sum(r["messages"] for r in frame) == 1
    assert watching.returncode == 0, stderr
    assert "Traceback" not in stderr


# -- scada status -------------------------------------------------------------------------


async def _queue_jobs(database_url: str, user_id: UUID, lane: str, count: int) -> list[UUID]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        ids = []
        for _ in range(count):
            command = _command(uuid4(), user_id, lane)
            await jobs.insert_job(pool, command)
            ids.append(command.job_id)
        return ids
    finally:
        await pool.close()


def _command(job_id: UUID, user_id: UUID, lane: Any = "bulk") -> RunHistoricalQuery:
    return RunHistoricalQuery(
        job_id=job_id,
        user_id=str(user_id),
        org_id="org",
        lane=lane,
        stations=["S-1", "S-2"],
        sensors=["temperature", "humidity"],
        start=T0,
        end=T0 + timedelta(days=1),
        resolution="raw",
        requested_at=datetime.now(UTC),
    )


def _new_user(backends: Backends, name: str) -> UUID:
    made = backends.scada("users", "create", name, "--org", "org", "--stations", "*", "--json")
    assert made.returncode == 0, made.stderr
    return UUID(json.loads(made.stdout)["user_id"])


async def test_status_shows_each_part_and_that_alertmanager_is_not_running(
    backends: Backends,
    database_url: str,
    producer: AIOKafkaProducer,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A port nothing listens on: the Alertmanager that is not set up yet.
    monkeypatch.setenv("SCADA_ALERTMANAGER_URL", f"http://127.0.0.1:{free_port()}")
    topics = TopicSet.for_namespace(unique)
    await ensure_topics(backends.kafka_bootstrap, topics.all())
    dlq = topics.readings_dlq
    for _ in range(2):
        letter = _dead_letter(topics, f"{unique}-s")
        await producer.send_and_wait(dlq.name, dlq.serialize(letter), partition=0)

    before = backends.scada("status", "--json", namespace=unique)
    assert before.returncode == 0, before.stderr
    report = json.loads(before.stdout)
    assert {"kafka", "timescaledb"} <= {c["name"].split("-")[0] for c in report["components"]}
    assert report["dead_letters"] == 2
    assert report["consumer_lag"] is not None, report["unavailable"]
    assert report["alerts"] is None
    assert "alertmanager not running" in report["unavailable"]["alerts"]
    assert [q["lane"] for q in report["job_queue"]] == ["interactive", "bulk"]

    user_id = _new_user(backends, f"{unique}-status")
    await _queue_jobs(database_url, user_id, "bulk", 2)
    after = json.loads(backends.scada("status", "--json", namespace=unique).stdout)
    queued = {q["lane"]: q for q in after["job_queue"]}
    was = {q["lane"]: q["queued"] for q in report["job_queue"]}
    assert queued["bulk"]["queued"] == was["bulk"] + 2
    assert queued["bulk"]["oldest_wait_seconds"] is not None

    shown = backends.scada("status", namespace=unique)
    assert shown.returncode == 0, shown.stderr
    assert "dead letters: 2" in shown.stdout
    assert "alerts: alertmanager not running" in shown.stdout
    assert "Traceback" not in shown.stderr


def _dead_letter(topics: TopicSet, station: str) -> ReadingDeadLettered:
    """A dead letter as the sink writes one when the database refuses a message."""
    now = datetime.now(UTC)
    message = StationReadingsAccepted(
        ingest_id=uuid4(),
        org_id="org",
        station_id=station,
        chunk=0,
        accepted_at=now,
        readings=[Reading(ts=now, values={"temperature": 20.5})],
    )
    return dead_letter_for_message(
        decode(topics.readings.serialize(message)), topics.readings.name, "database refused it"
    )


# -- scada dlq, scada jobs ----------------------------------------------------------------


async def test_dlq_list_says_when_there_are_none(backends: Backends, unique: str) -> None:
    await ensure_topics(backends.kafka_bootstrap, TopicSet.for_namespace(unique).all())
    shown = backends.scada("dlq", "list", namespace=unique)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "no dead letters"


async def test_jobs_are_named_by_a_unique_prefix_and_list_whose_they_are(
    backends: Backends, database_url: str, unique: str
) -> None:
    user_id = _new_user(backends, f"{unique}-jobs")
    shared = uuid4().hex[:8]  # two ids alike in their first 8 characters
    first, second = (UUID(shared + uuid4().hex[8:]) for _ in range(2))
    while str(first)[:13] == str(second)[:13]:
        second = UUID(shared + uuid4().hex[8:])
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        for job_id in (first, second):
            await jobs.insert_job(pool, _command(job_id, user_id))
    finally:
        await pool.close()

    shown = backends.scada("jobs", "show", str(first)[:13], "--json")
    assert shown.returncode == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert (job["job_id"], job["user_name"]) == (str(first), f"{unique}-jobs")

    ambiguous = backends.scada("jobs", "show", shared)
    assert ambiguous.returncode == 1
    assert "ambiguous" in ambiguous.stderr
    assert str(first) in ambiguous.stderr
    assert str(second) in ambiguous.stderr
    assert ambiguous.stdout == ""

    listed = backends.scada("jobs", "list").stdout.splitlines()
    header, mine = listed[0], [line for line in listed if line.startswith(shared)]
    assert header.split()[:4] == ["job", "status", "lane", "user"]
    assert len(mine) == 2
    for line in mine:
        assert f"{unique}-jobs" in line
        assert "S-1,S-2" in line
        assert "temperature,humidity" in line
        assert "2026-11-23 00:00..2026-11-24 00:00" in line

    cancelled = backends.scada("jobs", "cancel", str(second)[:13], "--json")
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
