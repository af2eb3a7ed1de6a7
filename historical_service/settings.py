"""Settings of the historical API and worker processes (``SCADA_`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from base.settings import PlatformSettings
from schemas.groups import HISTORICAL_WORKERS_GROUP, SINK_GROUP

_CHECKOUT = Path(__file__).resolve().parents[1]


class HistoricalSettings(PlatformSettings):
    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8081, description="API, dashboard and /metrics.")
    worker_metrics_port: int = Field(default=9102, description="Workers' /metrics (0: off).")
    worker_metrics_host: str = Field(default="127.0.0.1")
    result_ttl_seconds: int = Field(default=3600, ge=60, description="How long results are kept.")
    results_dir: Path | None = Field(default=None, description="Default: $SCADA_HOME/results.")
    lease_seconds: float = Field(
        default=10.0, gt=0, description="A silent worker loses its job after this."
    )
    worker_group: str = Field(default=HISTORICAL_WORKERS_GROUP)
    sink_group: str = Field(
        default=SINK_GROUP,
        description="The stream processors' group: live charts also read what it has not stored.",
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="An SSE stream's comment interval, and how soon a revoked user's streams end.",
    )
    max_streams_per_user: int = Field(
        default=8, ge=1, description="Open SSE streams (job events and live) per user."
    )
    max_job_request_bytes: int = Field(
        default=64 * 1024, ge=1024, description="A job request is read no further than this."
    )
    max_result_page_rows: int = Field(default=100_000, ge=1, description="Rows per JSON page.")
    public_url: str = Field(default="http://127.0.0.1:8081", description="Base of result URLs.")
    dashboard_dir: Path | None = Field(
        default=None, description="The built dashboard. Default: dashboard/dist of this checkout."
    )

    @property
    def effective_dashboard_dir(self) -> Path:
        return self.dashboard_dir or _CHECKOUT / "dashboard" / "dist"

    @property
    def effective_results_dir(self) -> Path:
        return self.results_dir or self.home / "results"
