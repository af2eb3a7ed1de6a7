"""The monitoring stack as local processes: Prometheus, Alertmanager, the exporters,
and the alert log that Alertmanager notifies.

All from Debian's packages (``prometheus``, ``prometheus-alertmanager``,
``prometheus-node-exporter``, ``prometheus-postgres-exporter``), plus the JMX
exporter's java agent inside each Kafka broker (``jmx.py``). Prometheus and
Alertmanager run on the files ``deploy/`` ships: the local stack links them into
``$SCADA_HOME/prometheus/`` and writes only the scrape targets beside them.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field

from base.errors import StackError
from base.settings import PlatformSettings
from schemas.groups import SINK_GROUP
from tooling.local_stack.processes import ManagedProcess

ALERT_LOG_PORT = 9095
"""Not a setting: deploy/alertmanager/alertmanager.yml notifies http://127.0.0.1:9095/alerts,
and Debian's Alertmanager (0.25) cannot read the URL from anywhere else."""

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
"""This checkout's deploy/ (the stack runs from a checkout, as the dashboard does)."""


class MonitoringSettings(PlatformSettings):
    """Where the local monitoring stack listens (``SCADA_*``): Prometheus and Alertmanager
    at ``prometheus_url`` / ``alertmanager_url``, the rest on these ports."""

    node_exporter_port: int = Field(default=9100)
    postgres_exporter_port: int = Field(default=9187)
    jmx_exporter_base_port: int = Field(
        default=7071, description="Kafka node i serves JMX metrics on base + i - 1."
    )
    lag_exporter_port: int = Field(default=9308, description="The lag exporter's /metrics.")
    lag_groups: list[str] = Field(
        default=[SINK_GROUP],
        description="Consumer groups whose lag the lag exporter measures (the lag alerts "
        "are about readings not stored yet; the historical workers commit a job only once "
        "it has run, so their queue is watched by its wait, not by lag).",
    )


@dataclass(frozen=True)
class Monitor:
    """One monitoring process: what runs, where it listens, how to ask it."""

    name: str
    argv: tuple[str, ...]
    address: str
    health_url: str
    env: Mapping[str, str] = field(default_factory=dict)

    def process(self, home: Path) -> ManagedProcess:
        return ManagedProcess(
            name=self.name,
            pidfile=home / "run" / f"{self.name}.pid",
            logfile=home / "logs" / f"{self.name}.log",
            # Every monitor listens on an address of its own: that names it.
            marker=next(a for a in self.argv if a.startswith("--web.listen-address=")),
        )


@dataclass(frozen=True)
class Targets:
    """What Prometheus scrapes, by job (the jobs of deploy/prometheus/prometheus.yml)."""

    jobs: Mapping[str, list[str]]

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for job, addresses in self.jobs.items():
            path = directory / f"{job}.json"
            # Written whole then renamed: Prometheus watches the files and must never
            # read half of one.
            partial = path.with_suffix(".json.partial")
            partial.write_text(json.dumps([{"targets": addresses}], indent=2) + "\n")
            partial.replace(path)


def binary(name: str) -> str:
    """The program's path, or its bare name when it is not installed (``require`` says so
    before anything is started; ``status`` and ``down`` work without it)."""
    return shutil.which(name) or name


def require(monitor: Monitor) -> None:
    if shutil.which(monitor.argv[0]) is None:
        raise StackError(
            f"{monitor.argv[0]} is needed for {monitor.name}; run `make up` "
            "(it installs Debian's package)"
        )


def monitors(
    home: Path, settings: MonitoringSettings, database_url: str, kafka_bootstrap: str | None = None
) -> list[Monitor]:
    """Prometheus, Alertmanager, the exporters and the alert log, in start order."""
    local = "127.0.0.1"
    prometheus_at = urlsplit(settings.prometheus_url).netloc
    alertmanager_at = urlsplit(settings.alertmanager_url).netloc
    node_at = f"{local}:{settings.node_exporter_port}"
    postgres_at = f"{local}:{settings.postgres_exporter_port}"
    alert_log_at = f"{local}:{ALERT_LOG_PORT}"
    lag_at = f"{local}:{settings.lag_exporter_port}"
    config = home / "prometheus" / "config"  # prepared by prometheus_config_dir at start
    return [
        Monitor(
            "alert-log",
            (
                sys.executable,
                "-m",
                "tooling.alert_log",
                f"--log={home / 'logs' / 'alerts.jsonl'}",
                f"--web.listen-address={alert_log_at}",
            ),
            f"http://{alert_log_at}",
            f"http://{alert_log_at}/healthz",
        ),
        Monitor(
            "alertmanager",
            (
                binary("prometheus-alertmanager"),
                f"--config.file={DEPLOY / 'alertmanager' / 'alertmanager.yml'}",
                f"--storage.path={home / 'alertmanager'}",
                f"--web.listen-address={alertmanager_at}",
                "--cluster.listen-address=",  # one instance: no gossip port
            ),
            f"http://{alertmanager_at}",
            f"http://{alertmanager_at}/-/ready",
        ),
        Monitor(
            "node-exporter",
            (binary("prometheus-node-exporter"), f"--web.listen-address={node_at}"),
            f"http://{node_at}",
            f"http://{node_at}/metrics",
        ),
        Monitor(
            "postgres-exporter",
            (binary("prometheus-postgres-exporter"), f"--web.listen-address={postgres_at}"),
            f"http://{postgres_at}",
            f"http://{postgres_at}/metrics",
            env={"DATA_SOURCE_NAME": _with_sslmode(database_url)},
        ),
        Monitor(
            "lag-exporter",
            (sys.executable, "-m", "tooling.lag_exporter", f"--web.listen-address={lag_at}"),
            f"http://{lag_at}",
            f"http://{lag_at}/healthz",
            env={
                "SCADA_KAFKA_BOOTSTRAP": kafka_bootstrap or settings.effective_kafka_bootstrap,
                "SCADA_LAG_GROUPS": json.dumps(settings.lag_groups),
                "SCADA_TOPIC_NAMESPACE": settings.topic_namespace,
            },
        ),
        Monitor(
            "prometheus",
            (
                binary("prometheus"),
                f"--config.file={config / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'prometheus' / 'data'}",
                "--storage.tsdb.retention.time=15d",
                f"--web.listen-address={prometheus_at}",
                "--web.enable-lifecycle",
            ),
            f"http://{prometheus_at}",
            f"http://{prometheus_at}/-/ready",
        ),
    ]


def prometheus_config_dir(home: Path) -> Path:
    """``$SCADA_HOME/prometheus/config``: deploy/prometheus's files linked, targets our own.

    Prometheus reads rule and target files relative to its configuration file, so
    linking the shipped files into a directory of ours runs them unchanged.
    """
    config = home / "prometheus" / "config"
    config.mkdir(parents=True, exist_ok=True)
    for shipped in sorted((DEPLOY / "prometheus").glob("*.yml")):
        link = config / shipped.name
        if not link.is_symlink() or link.resolve() != shipped.resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(shipped)
    return config


def _with_sslmode(url: str) -> str:
    """The exporter's libpq defaults to requiring TLS; the local server speaks plain TCP."""
    return url if "sslmode=" in url else f"{url}{'&' if '?' in url else '?'}sslmode=disable"
