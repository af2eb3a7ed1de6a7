"""The sensor catalogue against the real database: defaults, an organisation's
overrides, the API's roles and refusals, and ``scada sensors``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from base.storage.catalogue import MAX_ENTRIES_PER_ORG, catalogue_of, remove_sensor, set_sensor
from historical_service.users import ORG_ADMIN, create_user
from schemas.sensors import DEFAULT_SENSORS, SensorSpec
from tests.backends import Backends
from tests.history import store
from tests.pipeline import wait_for


async def _user(db: asyncpg.Connection, org: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
    _, token = await create_user(
        db, name=f"{org}-{len(roles)}", org_id=org, stations=[f"{org}-st"], roles=roles
    )
    return {"authorization": f"Bearer {token}"}


async def test_an_organisation_starts_from_the_defaults(
    db: asyncpg.Connection, unique: str
) -> None:
    found = await catalogue_of(db, f"{unique}-org")
    assert [s.name for s in found] == sorted(s.name for s in DEFAULT_SENSORS)
    rain = next(s for s in found if s.name == "rain")
    assert (rain.unit, rain.kind, rain.source) == ("mm", "accumulation", "default")
    direction = next(s for s in found if s.name == "wind_direction")
    assert direction.kind == "angle"


async def test_an_org_admin_overrides_and_removes_entries_others_only_read(
    historical: tuple[Any, httpx.AsyncClient],
    db: asyncpg.Connection,
    database_url: str,
    unique: str,
) -> None:
    _, api = historical
    org, other = f"{unique}-org", f"{unique}-other"
    reader, admin = await _user(db, org), await _user(db, org, (ORG_ADMIN,))
    outsider = await _user(db, other)
    # A sensor the org's station sends that nobody catalogued: listed as unknown.
    await store(database_url, f"{org}-st", [(datetime.now(UTC), {"odd_gauge": 3.0})])
    listed = (await api.get("/v1/sensors", headers=reader)).json()
    assert listed["org_id"] == org
    odd = next(s for s in listed["sensors"] if s["name"] == "odd_gauge")
    assert (odd["source"], odd["unit"]) == ("unknown", "")

    body = {
        "display_name": "Tipping bucket",
        "unit": "in",
        "kind": "accumulation",
        "valid_min": 0,
        "valid_max": 20,
        "decimals": 2,
    }
    refused = await api.put("/v1/sensors/rain", headers=reader, json=body)
    assert refused.status_code == 403
    assert "'org-admin' role" in refused.json()["message"]
    put = await api.put("/v1/sensors/rain", headers=admin, json=body)
    assert put.status_code == 200, put.text
    assert put.json() == {
        **body,
        "valid_min": 0.0,
        "valid_max": 20.0,
        "name": "rain",
        "source": "organisation",
    }
    mine = {s["name"]: s for s in (await api.get("/v1/sensors", headers=reader)).json()["sensors"]}
    assert mine["rain"]["unit"] == "in"
    theirs = {
        s["name"]: s for s in (await api.get("/v1/sensors", headers=outsider)).json()["sensors"]
    }
    assert (theirs["rain"]["unit"], theirs["rain"]["source"]) == ("mm", "default")

    backwards = await api.put("/v1/sensors/rain", headers=admin, json={**body, "valid_min": 30})
    assert backwards.status_code == 422
    assert "valid_min must be below valid_max" in backwards.text
    bad_kind = await api.put("/v1/sensors/rain", headers=admin, json={**body, "kind": "avg"})
    assert bad_kind.status_code == 422
    assert bad_kind.json()["errors"][0]["field"] == "kind"
    bad_name = await api.put("/v1/sensors/no%20spaces", headers=admin, json=body)
    assert bad_name.status_code == 422

    removed = await api.delete("/v1/sensors/rain", headers=admin)
    assert removed.json() == {"name": "rain", "removed": True}
    again = {s["name"]: s for s in (await api.get("/v1/sensors", headers=reader)).json()["sensors"]}
    assert again["rain"]["source"] == "default"
    assert (await api.delete("/v1/sensors/rain", headers=admin)).status_code == 404


async def test_scada_sensors_sets_lists_and_removes(backends: Backends, unique: str) -> None:
    org = f"{unique}-cli"
    made = backends.scada(
        "sensors",
        "set",
        "level",
        "--org",
        org,
        "--display-name",
        "River level",
        "--unit",
        "m",
        "--valid-min",
        "0",
        "--valid-max",
        "12",
        "--decimals",
        "2",
    )
    assert made.returncode == 0, made.stderr
    assert "River level (m, instantaneous)" in made.stdout
    listed = backends.scada("sensors", "list", "--org", org, "--json")
    level = next(s for s in json.loads(listed.stdout) if s["name"] == "level")
    assert (level["unit"], level["valid_max"], level["source"]) == ("m", 12.0, "organisation")
    refused = backends.scada(
        "sensors", "set", "level", "--org", org, "--display-name", "x", "--kind", "avg"
    )
    assert refused.returncode == 1
    assert "kind" in refused.stderr
    assert backends.scada("sensors", "remove", "level", "--org", org).returncode == 0
    assert backends.scada("sensors", "remove", "level", "--org", org).returncode == 1


async def test_the_defaults_and_the_entry_limit_are_guarded(
    db: asyncpg.Connection, unique: str
) -> None:
    spec = SensorSpec(display_name="x")
    with pytest.raises(ValueError, match="the defaults are"):
        await set_sensor(db, "", "rain", spec)
    with pytest.raises(ValueError, match="the defaults are"):
        await remove_sensor(db, "", "rain")
    with pytest.raises(ValueError, match="organisation"):
        await create_user(db, name=f"{unique}-nobody", org_id="", stations=["*"])
    org = f"{unique}-many"
    for n in range(MAX_ENTRIES_PER_ORG):
        await set_sensor(db, org, f"s{n}", spec)
    await set_sensor(db, org, "s0", spec)  # replacing one is not one more
    with pytest.raises(ValueError, match="the most it may have"):
        await set_sensor(db, org, "one_too_many", spec)


async def test_a_result_is_not_reused_once_the_catalogue_changed(
    historical: tuple[Any, httpx.AsyncClient],
    db: asyncpg.Connection,
    database_url: str,
    unique: str,
) -> None:
    _, api = historical
    org = f"{unique}-reuse"
    admin = await _user(db, org, (ORG_ADMIN,))
    start = datetime(2026, 2, 1, tzinfo=UTC)
    await store(database_url, f"{org}-st", [(start, {"rain": 1.0})])
    job = {
        "stations": [f"{org}-st"],
        "sensors": ["rain"],
        "start": start.isoformat(),
        "end": "2026-02-02T00:00:00+00:00",
        "resolution": "1h",
    }

    async def finished(job_id: str) -> Any:
        got = (await api.get(f"/v1/historical-jobs/{job_id}", headers=admin)).json()
        return got if got["status"] == "completed" else None

    first = (await api.post("/v1/historical-jobs", headers=admin, json=job)).json()
    await wait_for(lambda: finished(first["job_id"]), timeout=30)
    again = (await api.post("/v1/historical-jobs", headers=admin, json=job)).json()
    assert (again["job_id"], again.get("reused")) == (first["job_id"], True)
    body = {"display_name": "Rain", "unit": "in", "kind": "accumulation"}
    assert (await api.put("/v1/sensors/rain", headers=admin, json=body)).status_code == 200
    changed = (await api.post("/v1/historical-jobs", headers=admin, json=job)).json()
    assert changed["job_id"] != first["job_id"]  # run again: the result's unit is "in" now
    assert "reused" not in changed
