"""GET /v1/operations: only for operators, and a clear 503 when Prometheus is away.

What it answers from a live Prometheus is tested with the browser in
tests/e2e/test_monitoring.py; here the API runs against the real database and Kafka
with Prometheus pointed at a port nobody listens on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from historical_service.users import OPERATOR, create_user, grant_role
from tests.backends import Backends
from tests.history import free_port, historical_settings, new_user, running_historical


@pytest.fixture
async def api(
    backends: Backends, database_url: str, unique: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = historical_settings(
        backends.kafka_bootstrap,
        database_url,
        unique,
        tmp_path / "results",
        prometheus_url=f"http://127.0.0.1:{free_port()}",
    )
    async with running_historical(settings) as client:
        yield client


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_users_without_the_operator_role_get_403_naming_it(
    api: httpx.AsyncClient, database_url: str, unique: str
) -> None:
    _, token = await new_user(database_url, [f"{unique}-s"])
    answer = await api.get("/v1/operations", headers=_auth(token))
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert "'operator' role" in answer.json()["message"]
    me = (await api.get("/v1/me", headers=_auth(token))).json()
    assert me["roles"] == []
    assert (await api.get("/v1/operations")).status_code == 401


async def test_an_operator_is_told_prometheus_is_away_and_bad_minutes_are_named(
    api: httpx.AsyncClient, database_url: str, unique: str
) -> None:
    _, token = await new_user(database_url, [f"{unique}-s"], roles=(OPERATOR,))
    assert (await api.get("/v1/me", headers=_auth(token))).json()["roles"] == [OPERATOR]
    away = await api.get("/v1/operations", headers=_auth(token))
    assert away.status_code == 503
    assert away.json()["error"] == "prometheus_unavailable"
    assert "did not answer" in away.json()["message"]
    assert away.headers["retry-after"]
    for minutes in ("abc", "4", "1441", "-5", "1e3", "²", "9" * 5000, " 60"):
        bad = await api.get("/v1/operations", params={"minutes": minutes}, headers=_auth(token))
        assert bad.status_code == 422, minutes
        assert "minutes" in bad.json()["message"]


async def test_roles_are_checked_by_the_code_and_by_the_table(
    db: asyncpg.Connection, unique: str
) -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        await create_user(db, name=f"{unique}-x", org_id="org", stations=["*"], roles=("root",))
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO historical.users (user_id, name, org_id, all_stations, stations, "
            "max_range_days, token_sha256, roles) VALUES "
            "(gen_random_uuid(), $1, 'org', true, '{}', 1, $2, '{root}')",
            f"{unique}-y",
            unique.encode(),
        )


async def test_scada_users_create_takes_roles(backends: Backends, unique: str) -> None:
    made = backends.scada(
        "users", "create", f"{unique}-op", "--org", "org", "--stations", "*", "--role", OPERATOR
    )
    assert made.returncode == 0, made.stderr
    assert f"roles {OPERATOR}" in made.stdout
    refused = backends.scada(
        "users", "create", f"{unique}-no", "--org", "org", "--stations", "*", "--role", "root"
    )
    assert refused.returncode == 1
    assert "unknown roles ['root']" in refused.stderr


async def test_a_role_granted_twice_is_held_once(
    db: asyncpg.Connection, database_url: str, unique: str
) -> None:
    user_id, token = await new_user(database_url, [f"{unique}-s"])
    await grant_role(db, token, OPERATOR)
    await grant_role(db, token, OPERATOR)
    roles = await db.fetchval("SELECT roles FROM historical.users WHERE user_id = $1", user_id)
    assert roles == [OPERATOR]
