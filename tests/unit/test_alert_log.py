"""The alert log keeps what Alertmanager sends and refuses anything else with a 4xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tooling.alert_log import create_app


@asynccontextmanager
async def _client(log: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(log))
    async with httpx.AsyncClient(transport=transport, base_url="http://alert-log") as client:
        yield client


NOTIFICATION = {
    "status": "firing",
    "alerts": [{"status": "firing", "labels": {"alertname": "SinkLagSeconds"}}],
}


async def test_a_notification_is_appended_and_served(tmp_path: Path) -> None:
    log = tmp_path / "alerts.jsonl"
    async with _client(log) as client:
        assert (await client.post("/alerts", json=NOTIFICATION)).status_code == 200
        assert (await client.get("/alerts")).json()["notifications"] == [NOTIFICATION]
    assert [json.loads(line) for line in log.read_text().splitlines()] == [NOTIFICATION]
    # A restarted alert log serves what the file holds.
    async with _client(log) as client:
        assert (await client.get("/alerts")).json()["notifications"] == [NOTIFICATION]


async def test_what_is_not_a_notification_is_refused_and_not_logged(tmp_path: Path) -> None:
    log = tmp_path / "alerts.jsonl"
    hostile = [
        b"not json",
        b"[1, 2]",
        b'{"alerts": "none"}',
        b"[" * 2000 + b"]" * 2000,  # deeper than orjson nests
        b"{" + b'"a":' * 300 + b"1" + b"}" * 300,
    ]
    async with _client(log) as client:
        for body in hostile:
            answer = await client.post("/alerts", content=body)
            assert 400 <= answer.status_code < 500, (body[:20], answer.status_code)
            assert answer.json()["message"]
        too_big = await client.post("/alerts", content=b" " * (300 * 1024))
        assert too_big.status_code == 413
        assert (await client.get("/alerts")).json()["notifications"] == []
    assert not log.exists() or log.read_text() == ""
