"""Settings of the historical API and worker processes (``SCADA_`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from scada.settings import PlatformSettings


class HistoricalSettings(PlatformSettings):
    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8081, description="API, dashboard and /metrics.")
    worker_metrics_port: int = Field(default=9102, description="Workers' /metrics on 127.0.0.1.")
    result_ttl_seconds: int = Field(default=3600, ge=60, description="How long results are kept.")
