"""What each user chooses for their own dashboard: the language and the time zone, from
their own setting, else their organisation's, else the default (GET/PATCH /v1/me,
`scada users language|time-zone`), against the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from historical_service.users import create_user, revoke_user
from schemas.users import check_time_zone
from tests.backends import Backends
from tests.history import historical_settings, running_historical


@pytest.fixture
async def api(
    backends: Backends, database_url: str, unique: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = historical_settings(
        backends.kafka_bootstrap, database_url, unique, tmp_path / "results"
    )
    async with running_historical(settings) as client:
        yield client


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_display_time_zones_come_from_the_user_else_the_org_else_utc(
    api: httpx.AsyncClient, backends: Backends, db: asyncpg.Connection, unique: str
) -> None:
    org = f"{unique}-tzorg"
    _, own = await create_user(
        db, name=f"{unique}-own", org_id=org, stations=["*"], time_zone="Asia/Makassar"
    )
    _, plain = await create_user(db, name=f"{unique}-plain", org_id=org, stations=["*"])
    assert (await api.get("/v1/me", headers=_auth(plain))).json()["time_zone"] == "UTC"
    made = backends.scada("users", "time-zone", "Asia/Jakarta", "--org", org)
    assert made.returncode == 0, made.stderr
    assert (await api.get("/v1/me", headers=_auth(plain))).json()["time_zone"] == "Asia/Jakarta"
    assert (await api.get("/v1/me", headers=_auth(own))).json()["time_zone"] == "Asia/Makassar"
    moved = backends.scada("users", "time-zone", "Europe/Berlin", "--user", f"{unique}-plain")
    assert moved.returncode == 0, moved.stderr
    assert (await api.get("/v1/me", headers=_auth(plain))).json()["time_zone"] == "Europe/Berlin"
    refused = backends.scada("users", "time-zone", "Mars/Olympus", "--org", org)
    assert refused.returncode == 1
    assert "is no time zone" in refused.stderr
    with pytest.raises(ValueError, match="is no time zone"):
        await create_user(db, name=f"{unique}-bad", org_id=org, stations=["*"], time_zone="../etc")


def test_zone_names_a_browser_cannot_show_are_refused() -> None:
    for name in (
        "localtime",
        "Factory",
        "posixrules",
        "Jakarta",
        "../etc/passwd",
        "America/Indiana",  # a folder of the zone database, not a zone
        "America/Argentina",
    ):
        with pytest.raises(ValueError, match="is no time zone"):
            check_time_zone(name)
    for name in ("UTC", "Asia/Jakarta", "America/St_Johns"):
        check_time_zone(name)


async def test_the_language_is_the_users_else_the_orgs_else_the_browsers(
    api: httpx.AsyncClient, backends: Backends, db: asyncpg.Connection, unique: str
) -> None:
    org = f"{unique}-langorg"
    _, own = await create_user(db, name=f"{unique}-en", org_id=org, stations=["*"], language="en")
    _, plain = await create_user(db, name=f"{unique}-none", org_id=org, stations=["*"])
    assert (await api.get("/v1/me", headers=_auth(plain))).json()["language"] is None
    made = backends.scada("users", "language", "id", "--org", org)
    assert made.returncode == 0, made.stderr
    assert (await api.get("/v1/me", headers=_auth(plain))).json()["language"] == "id"
    assert (await api.get("/v1/me", headers=_auth(own))).json()["language"] == "en"
    refused = backends.scada("users", "language", "fr", "--user", f"{unique}-none")
    assert refused.returncode == 1
    assert "'fr' is no language of the dashboard" in refused.stderr
    missing = backends.scada("users", "language", "en", "--user", f"{unique}-nobody")
    assert missing.returncode == 1
    assert "no such user" in missing.stderr
    with pytest.raises(ValueError, match="no language"):
        await create_user(db, name=f"{unique}-bad", org_id=org, stations=["*"], language="xx")


async def test_a_user_sets_their_own_language_and_zone_and_nothing_else(
    api: httpx.AsyncClient, backends: Backends, db: asyncpg.Connection, unique: str
) -> None:
    org = f"{unique}-patchorg"
    name = f"{unique}-patch"
    _, token = await create_user(db, name=name, org_id=org, stations=["*"])
    assert backends.scada("users", "time-zone", "Asia/Jakarta", "--org", org).returncode == 0
    set_both = await api.patch(
        "/v1/me", headers=_auth(token), json={"language": "id", "time_zone": "Asia/Makassar"}
    )
    assert set_both.status_code == 200, set_both.text
    assert set_both.json()["language"] == "id"
    assert set_both.json()["time_zone"] == "Asia/Makassar"
    # Only the fields sent change; null goes back to the organisation's default.
    back = await api.patch("/v1/me", headers=_auth(token), json={"time_zone": None})
    assert (back.json()["language"], back.json()["time_zone"]) == ("id", "Asia/Jakarta")
    assert (await api.get("/v1/me", headers=_auth(token))).json()["language"] == "id"
    row = await db.fetchrow(
        "SELECT language, time_zone, roles, stations FROM historical.users WHERE name = $1", name
    )
    assert (row["language"], row["time_zone"], row["roles"]) == ("id", None, [])

    for body, field in (
        ({"language": "fr"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"roles": ["operator"]}, "roles"),  # no field grants anything
    ):
        refused = await api.patch("/v1/me", headers=_auth(token), json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field], refused.json()
    not_json = await api.patch("/v1/me", headers=_auth(token), content=b"{")
    assert not_json.status_code == 422
    huge = await api.patch(
        "/v1/me", headers=_auth(token), json={"language": "id", "time_zone": "x" * 2000}
    )
    assert huge.status_code == 413
    assert (await api.patch("/v1/me", json={"language": "en"})).status_code == 401
    await revoke_user(db, name)
    gone = await api.patch("/v1/me", headers=_auth(token), json={"language": "en"})
    assert gone.status_code == 401
    assert await db.fetchval("SELECT language FROM historical.users WHERE name = $1", name) == "id"
