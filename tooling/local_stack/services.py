"""The pipeline's own services as local processes: gateway, stream processors, simulator."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tooling.local_stack.processes import ManagedProcess


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    address: str
    health_url: str | None
    args: tuple[str, ...] = ()

    def process(self, home: Path) -> ManagedProcess:
        return ManagedProcess(
            name=self.name,
            pidfile=home / "run" / f"{self.name}.pid",
            logfile=home / "logs" / f"{self.name}.log",
            marker=" ".join(["-m", self.module, *self.args[:1]]),
        )

    def start(self, home: Path, env: dict[str, str]) -> int:
        argv = [sys.executable, "-m", self.module, *self.args]
        return self.process(home).start(argv, env={**os.environ, **env})


GATEWAY = Service(
    "gateway", "ingest_gateway", "http://127.0.0.1:8080", "http://127.0.0.1:8080/healthz"
)
PROCESSORS = Service(
    "stream-processors", "stream_processors", "127.0.0.1:9101", "http://127.0.0.1:9101/metrics"
)


HISTORICAL_API = Service(
    "historical-api",
    "historical_service",
    "http://127.0.0.1:8081",
    "http://127.0.0.1:8081/metrics",
    ("api",),
)
HISTORICAL_WORKERS = Service(
    "historical-workers",
    "historical_service",
    "127.0.0.1:9102",
    "http://127.0.0.1:9102/metrics",
    ("worker",),
)


def simulator(stations: int, rate: float, history: tuple[str, ...] = ()) -> Service:
    """Live traffic from ``stations`` demo stations, plus any ``history`` options (a backfill)."""
    return Service(
        "simulator",
        "tooling",
        "-",
        None,
        (
            *("simulate", "--stations", str(stations), "--rate", str(rate)),
            *("--prefix", "DEMO", *history),
        ),
    )


async def service_health(service: Service) -> str:
    if service.health_url is None:
        return "ok (running)"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            response = await client.get(service.health_url)
    except httpx.HTTPError:
        return "not answering"
    return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
