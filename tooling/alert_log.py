"""The alert log: the webhook Alertmanager notifies, appending each notification to a file.

``python -m tooling.alert_log --log FILE --web.listen-address HOST:PORT`` (the local
stack runs it). Each POSTed notification becomes one JSON line; ``GET /alerts``
returns the last ones, newest last, for ``scada status`` and the tests. A pager or
chat receiver goes beside it in deploy/alertmanager/alertmanager.yml.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import deque
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from base.http.errors import InvalidRequest
from base.http.requests import read_body
from base.http.responses import ORJSONResponse, exception_handlers

MAX_NOTIFICATION_BYTES = 256 * 1024
KEPT = 200
"""Notifications kept in memory for ``GET /alerts`` (the file keeps them all)."""
TAIL_BYTES = KEPT * 8 * 1024


def create_app(log: Path) -> Starlette:
    log.parent.mkdir(parents=True, exist_ok=True)
    recent: deque[dict[str, Any]] = deque(_tail(log), maxlen=KEPT)
    lock = asyncio.Lock()

    async def receive(request: Request) -> Response:
        raw = await read_body(request, MAX_NOTIFICATION_BYTES)
        try:
            notification = orjson.loads(raw)
            line = orjson.dumps(notification) + b"\n"
        except (orjson.JSONDecodeError, TypeError) as exc:  # TypeError: nested too deep
            raise InvalidRequest(f"a notification is Alertmanager's webhook JSON: {exc}") from None
        if not isinstance(notification, dict) or not isinstance(notification.get("alerts"), list):
            raise InvalidRequest("a notification is an object with a list of 'alerts'")
        async with lock:
            await asyncio.to_thread(_append, log, line)
            recent.append(notification)
        return ORJSONResponse({"status": "logged"})

    async def alerts(request: Request) -> Response:
        return ORJSONResponse({"notifications": list(recent)})

    async def healthz(request: Request) -> Response:
        return ORJSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/alerts", receive, methods=["POST"]),
            Route("/alerts", alerts, methods=["GET"]),
            Route("/healthz", healthz),
        ],
        exception_handlers=exception_handlers(),
    )


def _append(log: Path, line: bytes) -> None:
    with log.open("ab") as handle:
        handle.write(line)


def _tail(log: Path) -> list[dict[str, Any]]:
    """The last notifications of the file, read from its end only (it is never rotated)."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - TAIL_BYTES))
            lines = handle.read().decode(errors="replace").splitlines()[-KEPT:]
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash mid-write
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tooling.alert_log", description=__doc__)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--web.listen-address", dest="listen", default="127.0.0.1:9095")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    uvicorn.run(create_app(args.log), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
