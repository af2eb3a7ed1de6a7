"""Settings of the ingest gateway process (``SCADA_`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from scada.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    host: str = Field(default="127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(default=8080, description="Port of the gateway (HTTP and /metrics).")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, description="Largest (inflated) body.")
    max_readings_per_request: int = Field(default=50_000, ge=1)
    max_sensors_per_reading: int = Field(default=256, ge=1)
    produce_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long to wait for Kafka's acks before answering 503."
    )
    rate_limit_readings_per_second: float = Field(
        default=200_000, gt=0, description="Per token; bursts up to one maximal request."
    )
    token_cache_seconds: float = Field(default=30.0, ge=0)
    message_chunk_readings: int = Field(
        default=2000, ge=1, description="Readings of one station per Kafka message, at most."
    )
