"""Alarms end to end on the real servers: rules through the API, readings through the
gateway, the faust evaluator as its own process, the alarm sink into TimescaleDB, and
the ISA-18.2 lifecycle through the API — with grants checked on every endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from historical_service.users import ORG_ADMIN, create_user
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.alarms import evaluating, start_evaluator, stop
from tests.backends import Backends
from tests.history import historical_settings, running_historical
from tests.pipeline import Gateway, make_token, running_gateway, running_sink, wait_for


@dataclass
class Site:
    api: httpx.AsyncClient
    gateway: Gateway
    org: str
    station: str
    admin: dict[str, str]
    db: asyncpg.Connection
    evaluator: subprocess.Popen[bytes]

    async def post(self, offset_s: float, **values: float) -> None:
        """A reading ``offset_s`` from now (the trail orders by the readings' own times)."""
        ts = datetime.now(UTC) + timedelta(seconds=offset_s)
        answer = await self.gateway.post(
            [{"station_id": self.station, "ts": ts.isoformat(), "values": values}]
        )
        assert answer.status_code == 202, answer.text

    async def alarms(self, headers: dict[str, str] | None = None, **params: str) -> Any:
        answer = await self.api.get("/v1/alarms", headers=headers or self.admin, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["alarms"]

    async def alarm_in(self, state: str) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            rows = await self.alarms(all="true")
            return next((a for a in rows if a["state"] == state), None)

        alarm: dict[str, Any] = await wait_for(found, timeout=30, interval=0.3)
        return alarm


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def site(
    backends: Backends,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
    tmp_path: Path,
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
) -> AsyncIterator[Site]:
    org, station = f"{unique}-org", f"{unique}-aws"
    token = await make_token(database_url, org, [station])
    _, admin = await create_user(
        db, name=f"{unique}-admin", org_id=org, stations=["*"], roles=(ORG_ADMIN,)
    )
    settings = historical_settings(backends.kafka_bootstrap, database_url, unique, tmp_path)
    log = tmp_path / "evaluator.log"
    async with (
        running_historical(settings) as api,
        running_gateway(gateway_settings, token) as gateway,
        running_sink(processor_settings),
    ):
        rule = await api.put(
            "/v1/alarm-rules/hot",
            headers=_auth(admin),
            json={
                "kind": "limit",
                "sensor": "temperature",
                "h": 30,
                "deadband": 1,
                "severity": "high",
                "description": "too warm for the shelter",
            },
        )
        assert rule.status_code == 200, rule.text
        site = Site(
            api,
            gateway,
            org,
            station,
            _auth(admin),
            db,
            start_evaluator(backends.kafka_bootstrap, database_url, unique, log),
        )
        try:
            await evaluating(site.evaluator, log)
            yield site
        finally:
            stop(site.evaluator)


async def test_a_limit_alarm_goes_through_its_lifecycle(site: Site) -> None:
    # A year of history posted now raises nothing: it is older than the live window.
    old = datetime.now(UTC) - timedelta(days=300)
    history = [
        {
            "station_id": site.station,
            "ts": (old + timedelta(hours=h)).isoformat(),
            "values": {"temperature": 45.0},
        }
        for h in range(200)
    ]
    assert (await site.gateway.post(history)).status_code == 202
    await site.post(-2, temperature=25.0)
    await site.post(-1, temperature=32.5)  # over H: raised
    raised = await site.alarm_in("active_unacknowledged")
    assert (raised["condition"], raised["severity"], raised["value"]) == ("H", "high", 32.5)
    assert raised["alarm_id"] == f"hot:H/{site.station}/temperature"

    key = raised["key"]
    ack = await site.api.post(f"/v1/alarms/{key}/acknowledge", headers=site.admin)
    assert ack.status_code == 202, ack.text
    acked = await site.alarm_in("active_acknowledged")
    assert acked["acknowledged_by"].endswith("-admin")
    again = await site.api.post(f"/v1/alarms/{key}/acknowledge", headers=site.admin)
    assert (again.status_code, again.json()["error"]) == (409, "already_acknowledged")

    await site.post(0, temperature=29.5)  # inside the deadband: still active
    await site.post(0, temperature=28.0)  # back: acknowledged and cleared is normal
    await site.alarm_in("normal")
    assert await site.alarms() == []  # the default list leaves normal alarms out

    await site.post(0, temperature=31.0)  # raised again, then cleared unacknowledged
    await site.alarm_in("active_unacknowledged")
    await site.post(0, temperature=20.0)
    returned = await site.alarm_in("returned_unacknowledged")
    ack = await site.api.post(f"/v1/alarms/{returned['key']}/acknowledge", headers=site.admin)
    assert ack.status_code == 202
    await site.alarm_in("normal")

    shelve = await site.api.post(
        f"/v1/alarms/{key}/shelve",
        headers=site.admin,
        json={"minutes": 30, "reason": "sensor being replaced"},
    )
    assert shelve.status_code == 202, shelve.text

    async def shelved() -> bool:
        rows = await site.alarms(all="true")
        return bool(rows and rows[0]["shelved"] and rows[0]["shelve_reason"])

    await wait_for(shelved, timeout=30)
    unshelve = await site.api.post(f"/v1/alarms/{key}/unshelve", headers=site.admin)
    assert unshelve.status_code == 202

    async def trail() -> list[tuple[str, str | None]] | None:
        answer = await site.api.get("/v1/alarms/history", headers=site.admin)
        events = answer.json()["events"]
        kinds = [(e["type"], e["by"]) for e in reversed(events) if e["applied"]]
        return kinds if len(kinds) >= 8 else None

    admin = acked["acknowledged_by"]
    assert await wait_for(trail, timeout=30) == [
        ("raised", None),
        ("acknowledged", admin),
        ("cleared", None),
        ("raised", None),
        ("cleared", None),
        ("acknowledged", admin),
        ("shelved", admin),
        ("unshelved", admin),
    ]


async def test_every_alarm_endpoint_checks_the_users_grants(
    site: Site, db: asyncpg.Connection, unique: str, database_url: str
) -> None:
    await site.post(0, temperature=35.0)
    alarm = await site.alarm_in("active_unacknowledged")
    _, elsewhere = await create_user(
        db, name=f"{unique}-other-station", org_id=site.org, stations=[f"{unique}-x"]
    )
    await make_token(database_url, f"{unique}-rival", [f"{unique}-theirs"])
    _, stranger = await create_user(
        db,
        name=f"{unique}-stranger",
        org_id=f"{unique}-rival",
        stations=["*"],
        roles=(ORG_ADMIN,),
    )
    for token in (elsewhere, stranger):
        headers = _auth(token)
        assert await site.alarms(headers, all="true") == []
        for action in ("acknowledge", "unshelve"):
            answer = await site.api.post(f"/v1/alarms/{alarm['key']}/{action}", headers=headers)
            assert answer.status_code == 404, (action, answer.text)
        shelve = await site.api.post(
            f"/v1/alarms/{alarm['key']}/shelve",
            headers=headers,
            json={"minutes": 5, "reason": "x"},
        )
        assert shelve.status_code == 404
        trail = await site.api.get("/v1/alarms/history", headers=headers)
        assert trail.json()["events"] == []
        refused = await site.api.get(
            "/v1/alarms/history", headers=headers, params={"station": site.station}
        )
        assert refused.status_code == 403
    # Rules: the organisation reads its own; only an org-admin writes, and only for
    # stations of the organisation.
    mine = await site.api.get("/v1/alarm-rules", headers=_auth(elsewhere))
    assert [r["rule_id"] for r in mine.json()["rules"]] == ["hot"]
    theirs = await site.api.get("/v1/alarm-rules", headers=_auth(stranger))
    assert theirs.json()["rules"] == []
    write = await site.api.put(
        "/v1/alarm-rules/x",
        headers=_auth(elsewhere),
        json={"kind": "no_data", "silent_for_s": 60},
    )
    assert write.status_code == 403
    foreign = await site.api.put(
        "/v1/alarm-rules/x",
        headers=_auth(stranger),
        json={"kind": "no_data", "silent_for_s": 60, "station": site.station},
    )
    assert foreign.status_code == 422
    assert "is not one of organisation" in foreign.json()["message"]
    bad = await site.api.put(
        "/v1/alarm-rules/x", headers=site.admin, json={"kind": "limit", "sensor": "t"}
    )
    assert bad.status_code == 422
    assert "at least one of hh, h, l, ll" in bad.text
    assert (
        await site.api.post("/v1/alarms/not-a-key/acknowledge", headers=site.admin)
    ).status_code == 422


async def test_a_silent_station_raises_no_data_and_its_next_reading_clears_it(
    site: Site,
) -> None:
    rule = await site.api.put(
        "/v1/alarm-rules/quiet",
        headers=site.admin,
        json={
            "kind": "no_data",
            "silent_for_s": 10,
            "station": site.station,
            "severity": "critical",
        },
    )
    assert rule.status_code == 200, rule.text
    await site.post(0, rain=0.0)
    silent = await site.alarm_in("active_unacknowledged")
    assert (silent["condition"], silent["severity"]) == ("NODATA", "critical")
    await site.post(20, rain=0.2)
    await site.alarm_in("returned_unacknowledged")


async def test_sigkill_mid_stream_loses_no_transition_and_doubles_none(
    site: Site, backends: Backends, database_url: str, unique: str, tmp_path: Path
) -> None:
    """The evaluator is SIGKILLed while readings stream in, and started again: every
    transition the readings call for is stored once, and its state (the alarm raised
    before the kill) comes back from the changelog, not from a second "raised"."""
    assert os.name == "posix"
    log = tmp_path / "evaluator.log"
    base = -60.0
    expected: list[str] = []
    active = False
    for i in range(60):
        value = 35.0 if (i // 5) % 2 else 20.0  # five over the limit, five under, …
        if value > 30 and not active:
            expected.append("raised")
        if value < 29 and active:
            expected.append("cleared")
        active = value > 30
        await site.post(base + i * 0.5, temperature=value)
        if i == 27:  # mid-stream: some of it evaluated, some in flight, the rest to come
            os.kill(site.evaluator.pid, signal.SIGKILL)
            site.evaluator.wait()
            size = log.stat().st_size
            site.evaluator = start_evaluator(backends.kafka_bootstrap, database_url, unique, log)
    await evaluating(site.evaluator, log, since=size)

    async def stored() -> list[Any]:
        return list(
            await site.db.fetch(
                "SELECT type, applied, event_id, at, value FROM alarms.events "
                "WHERE org_id = $1 AND type IN ('raised', 'cleared') ORDER BY at, type DESC",
                site.org,
            )
        )

    async def all_there() -> bool:
        return len(await stored()) >= len(expected)

    with contextlib.suppress(AssertionError):  # the comparison below says what is missing
        await wait_for(all_there, timeout=60, interval=0.5)
    await asyncio.sleep(3)  # anything doubled would arrive by now
    rows = await stored()
    assert [r["type"] for r in rows] == expected, [
        (r["type"], r["at"].isoformat(), r["value"], r["applied"]) for r in rows
    ]
    assert all(r["applied"] for r in rows), "a transition was stored twice"
    assert len({r["event_id"] for r in rows}) == len(rows)


async def test_transitions_reach_the_streams_of_users_who_may_see_them(
    site: Site, db: asyncpg.Connection, unique: str, database_url: str
) -> None:
    await make_token(database_url, f"{unique}-rival", [f"{unique}-theirs"])
    _, stranger = await create_user(
        db, name=f"{unique}-rival-user", org_id=f"{unique}-rival", stations=["*"]
    )
    _, elsewhere = await create_user(
        db, name=f"{unique}-elsewhere", org_id=site.org, stations=[f"{unique}-x"]
    )

    async def first_alarm(headers: dict[str, str], seen: list[Any]) -> None:
        async with site.api.stream("GET", "/v1/alarms/stream", headers=headers) as answer:
            assert answer.status_code == 200
            async for line in answer.aiter_lines():
                if line.startswith("data: "):
                    seen.append(orjson.loads(line[6:]))
                    return

    mine: list[Any] = []
    theirs: list[Any] = []
    others: list[Any] = []
    readers = [
        asyncio.create_task(first_alarm(site.admin, mine)),
        asyncio.create_task(first_alarm(_auth(stranger), theirs)),
        asyncio.create_task(first_alarm(_auth(elsewhere), others)),
    ]
    await asyncio.sleep(1)  # the streams are open
    await site.post(0, temperature=36.0)
    await asyncio.wait_for(readers[0], 30)
    assert [(t["type"], t["condition"], t["station_id"]) for t in mine] == [
        ("raised", "H", site.station)
    ]
    await asyncio.sleep(2)  # time enough for a transition to reach the others
    for task in readers[1:]:
        task.cancel()
    await asyncio.gather(*readers[1:], return_exceptions=True)
    assert theirs == others == []


async def test_scada_alarms_rules_set_list_and_remove(
    backends: Backends, database_url: str, unique: str, consumer_factory: Any
) -> None:
    """The command line saves a rule and publishes it, lists it, refuses a bad one by
    name, and removes it with a tombstone on the rules topic."""
    org, station = f"{unique}-cli", f"{unique}-cli-aws"
    await make_token(database_url, org, [station])
    made = backends.scada(
        "alarms",
        "rules",
        "set",
        "flood",
        "--org",
        org,
        "--kind",
        "rate",
        "--station",
        station,
        "--sensor",
        "water_level",
        "--rate-per-minute",
        "0.5",
        "--severity",
        "critical",
        namespace=unique,
    )
    assert made.returncode == 0, made.stderr
    listed = backends.scada("alarms", "rules", "list", "--org", org, "--json", namespace=unique)
    rules = orjson.loads(listed.stdout)
    assert [(r["rule_id"], r["kind"], r["rate_per_minute"]) for r in rules] == [
        ("flood", "rate", 0.5)
    ]
    bad = backends.scada(
        "alarms",
        "rules",
        "set",
        "x",
        "--org",
        org,
        "--kind",
        "limit",
        "--sensor",
        "t",
        namespace=unique,
    )
    assert bad.returncode == 1
    assert "at least one of hh, h, l, ll" in bad.stderr
    foreign = backends.scada(
        "alarms",
        "rules",
        "set",
        "x",
        "--org",
        f"{unique}-other",
        "--kind",
        "no_data",
        "--station",
        station,
        "--silent-for",
        "60",
        namespace=unique,
    )
    assert foreign.returncode == 1
    assert "is not one of organisation" in foreign.stderr
    gone = backends.scada("alarms", "rules", "remove", "flood", "--org", org, namespace=unique)
    assert gone.returncode == 0, gone.stderr
    # The topic has the rule, then its tombstone.
    consumer = await consumer_factory(f"{unique}.scada.alarm-rules.v1")
    records: list[Any] = []

    async def both() -> bool:
        batch = await consumer.getmany(timeout_ms=500)
        records.extend(r for rs in batch.values() for r in rs)
        return len(records) >= 2

    await wait_for(both, timeout=20)
    assert [r.key for r in records] == [f"{org}/flood".encode()] * 2
    assert records[0].value is not None
    assert records[1].value is None
