"""The pipeline's own services as local processes: gateway, stream processors, historical
API and workers, the alarm evaluator, the simulator."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from alarm_evaluator.settings import EvaluatorSettings
from historical_service.settings import HistoricalSettings
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
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


@dataclass(frozen=True)
class PipelineServices:
    """The pipeline's processes, at the addresses their settings give (``SCADA_*``)."""

    gateway: Service
    processors: Service
    historical_api: Service
    historical_workers: Service
    alarm_evaluator: Service

    def all(self) -> tuple[Service, ...]:
        return (
            self.gateway,
            self.processors,
            self.historical_api,
            self.historical_workers,
            self.alarm_evaluator,
        )

    def simulator(self, stations: int, rate: float, history: tuple[str, ...] = ()) -> Service:
        """Live traffic from ``stations`` demo stations, plus any ``history`` options."""
        return Service(
            "simulator",
            "tooling",
            "-",
            None,
            (
                *("simulate", "--stations", str(stations), "--rate", str(rate)),
                *("--gateway", self.gateway.address, "--prefix", "DEMO", *history),
            ),
        )


def pipeline_services() -> PipelineServices:
    """Built from the services' own settings classes, so each address is spelled once."""
    gateway = GatewaySettings()
    processors = ProcessorSettings()
    historical = HistoricalSettings()
    evaluator = EvaluatorSettings()
    gateway_url = f"http://{gateway.host}:{gateway.port}"
    api_url = f"http://{historical.api_host}:{historical.api_port}"
    processors_at = f"{processors.metrics_host}:{processors.metrics_port}"
    workers_at = f"{historical.worker_metrics_host}:{historical.worker_metrics_port}"
    evaluator_at = f"{evaluator.metrics_host}:{evaluator.metrics_port}"
    return PipelineServices(
        gateway=Service("gateway", "ingest_gateway", gateway_url, f"{gateway_url}/healthz"),
        processors=Service(
            "stream-processors",
            "stream_processors",
            processors_at,
            f"http://{processors_at}/metrics",
        ),
        historical_api=Service(
            "historical-api", "historical_service", api_url, f"{api_url}/metrics", ("api",)
        ),
        historical_workers=Service(
            "historical-workers",
            "historical_service",
            workers_at,
            f"http://{workers_at}/metrics",
            ("worker",),
        ),
        alarm_evaluator=Service(
            "alarm-evaluator", "alarm_evaluator", evaluator_at, f"http://{evaluator_at}/metrics"
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
