"""Users can be revoked; open streams are bounded per user and leave nothing behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from historical_service.settings import HistoricalSettings
from historical_service.users import create_user
from tests.backends import Backends
from tests.history import historical_app, new_user
from tests.pipeline import make_token, wait_for


async def test_users_of_another_organisations_stations_are_refused(
    db: asyncpg.Connection, database_url: str, unique: str, backends: Backends
) -> None:
    theirs = f"{unique}-theirs"
    await make_token(database_url, "org-b", [theirs])  # registers the station to org-b
    with pytest.raises(ValueError, match="another organisation"):
        await create_user(db, name=f"{unique}-a", org_id="org-a", stations=[theirs])
    refused = backends.scada(
        "users", "create", f"{unique}-cli", "--org", "org-a", "--stations", theirs
    )
    assert refused.returncode == 1
    assert "another organisation" in refused.stderr


async def test_a_revoked_user_is_refused_and_their_streams_close(
    database_url: str, backends: Backends, unique: str, tmp_path: Path
) -> None:
    async with historical_app(
        backends.kafka_bootstrap,
        database_url,
        unique,
        tmp_path / "results",
        stream_heartbeat_seconds=0.5,
    ) as (_, client):
        await _revoke_while_streaming(client, database_url, backends, unique)


async def _revoke_while_streaming(
    client: httpx.AsyncClient, database_url: str, backends: Backends, unique: str
) -> None:
    user_id, token = await new_user(database_url, [f"{unique}-s"])
    auth = {"authorization": f"Bearer {token}"}
    conn = await asyncpg.connect(database_url)
    try:
        name = await conn.fetchval("SELECT name FROM historical.users WHERE user_id = $1", user_id)
    finally:
        await conn.close()
    async with client.stream("GET", "/v1/events", headers=auth) as stream:
        assert stream.status_code == 200
        revoked = await asyncio.to_thread(backends.scada, "users", "revoke", name)
        assert revoked.returncode == 0, revoked.stderr

        async def drained() -> bool:
            async for _ in stream.aiter_bytes():
                pass
            return True

        assert await asyncio.wait_for(drained(), timeout=10)  # the server ended the stream
    assert (await client.get("/v1/me", headers=auth)).status_code == 401


async def test_streams_are_bounded_per_user_and_leave_nothing_behind(
    historical: tuple[HistoricalSettings, httpx.AsyncClient], database_url: str, unique: str
) -> None:
    settings, client = historical
    _, token = await new_user(database_url, [f"{unique}-s"])
    auth = {"authorization": f"Bearer {token}"}
    tasks_before = len(asyncio.all_tasks())  # the API runs in this process, under uvicorn
    for _ in range(100):  # connect and go away, a hundred times
        async with client.stream("GET", "/v1/events", headers=auth) as stream:
            assert stream.status_code == 200
            await anext(stream.aiter_bytes())

    async def settled() -> bool:
        return len(asyncio.all_tasks()) <= tasks_before + 2

    await wait_for(settled, timeout=10)
    for _ in range(2):  # twice: every slot the first round took came back
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=30) as probe:
            streams = [
                await probe.send(
                    probe.build_request("GET", "/v1/events", headers=auth), stream=True
                )
                for _ in range(settings.max_streams_per_user)
            ]
            try:
                assert {s.status_code for s in streams} == {200}
                over = await probe.get("/v1/events", headers=auth)
                assert over.status_code == 429
                assert over.headers["retry-after"] == "5"
                assert "at most 8 open streams" in over.json()["message"]
            finally:
                for s in streams:
                    await s.aclose()
        await wait_for(settled, timeout=10)
