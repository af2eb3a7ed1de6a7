"""Settings of the ingest gateway process (``SCADA_`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from scada.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    host: str = Field(default="127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(default=8080, description="Port of the gateway (HTTP and /metrics).")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, description="Largest request body.")
    max_readings_per_request: int = Field(default=50_000, ge=1)
    max_sensors_per_reading: int = Field(default=256, ge=1)
