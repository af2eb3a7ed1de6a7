"""A monitoring stack of a test's own: the local stack's monitors (Prometheus,
Alertmanager, the exporters, the alert log) under the test's home, on free ports
(the alert log on the port deploy/alertmanager/alertmanager.yml notifies), with
the scrape targets the test names."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.history import free_port
from tests.pipeline import wait_for
from tooling.local_stack.monitoring import (
    ALERT_LOG_PORT,
    Monitor,
    MonitoringSettings,
    Targets,
    monitors,
    prometheus_config_dir,
)
from tooling.local_stack.processes import stop_all


@dataclass(frozen=True)
class Monitoring:
    prometheus: str
    alertmanager: str
    alert_log: str
    targets: Path
    monitors: Mapping[str, Monitor]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        async with httpx.AsyncClient(base_url=self.prometheus, timeout=10) as client:
            answer = await client.get("/api/v1/query", params={"query": expr})
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    async def notified(self, alertname: str, status: str = "firing") -> dict[str, Any] | None:
        """The first alert named ``alertname`` in ``status`` the alert log was sent, if any."""
        async with httpx.AsyncClient(base_url=self.alert_log, timeout=5) as client:
            notes = (await client.get("/alerts")).json()["notifications"]
        for note in notes:
            for alert in note["alerts"]:
                if alert["labels"]["alertname"] == alertname and alert["status"] == status:
                    return dict(alert)
        return None

    def scrape(self, jobs: Mapping[str, list[str]]) -> None:
        """Scrape these ``host:port`` targets per job (Prometheus rereads the files)."""
        Targets(jobs).write(self.targets)


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


@asynccontextmanager
async def running_monitoring(
    home: Path,
    database_url: str,
    *,
    kafka_bootstrap: str,
    lag_groups: list[str],
    topic_namespace: str = "",
) -> AsyncIterator[Monitoring]:
    """Every monitor started and healthy; Prometheus scrapes the monitors themselves."""
    settings = MonitoringSettings(
        home=home,
        kafka_bootstrap=kafka_bootstrap,
        prometheus_url=f"http://127.0.0.1:{free_port()}",
        alertmanager_url=f"http://127.0.0.1:{free_port()}",
        node_exporter_port=free_port(),
        postgres_exporter_port=free_port(),
        lag_exporter_port=free_port(),
        lag_groups=lag_groups,
        topic_namespace=topic_namespace,
    )
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", ALERT_LOG_PORT)) == 0:
            pytest.fail(
                f"127.0.0.1:{ALERT_LOG_PORT} is taken (a running `make up`?); "
                "deploy/alertmanager/alertmanager.yml notifies the alert log there"
            )
    started = monitors(home, settings, database_url)
    by_name = {m.name: m for m in started}
    targets = prometheus_config_dir(home) / "targets"

    def hostport(name: str) -> list[str]:
        return [by_name[name].address.removeprefix("http://")]

    Targets(
        {
            "prometheus": hostport("prometheus"),
            "alertmanager": hostport("alertmanager"),
            "node": hostport("node-exporter"),
            "postgres": hostport("postgres-exporter"),
            "kafka-lag": hostport("lag-exporter"),
        }
    ).write(targets)
    processes = [m.process(home) for m in started]
    try:
        for monitor, process in zip(started, processes, strict=True):
            process.start(list(monitor.argv), env={**os.environ, **monitor.env})
        for monitor in started:
            await wait_for(lambda m=monitor: _healthy(m.health_url), timeout=60)
        yield Monitoring(
            settings.prometheus_url,
            settings.alertmanager_url,
            by_name["alert-log"].address,
            targets,
            by_name,
        )
    finally:
        stop_all(processes, timeout=10)
