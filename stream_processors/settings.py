"""Settings of the stream-processor process (``SCADA_`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from base.settings import PlatformSettings
from schemas.groups import ALARM_SINK_GROUP, SINK_GROUP


class ProcessorSettings(PlatformSettings):
    consumer_group: str = Field(default=SINK_GROUP)
    alarm_sink_group: str = Field(default=ALARM_SINK_GROUP)
    batch_max_readings: int = Field(default=20_000, ge=1, description="Readings per DB write.")
    batch_max_wait_ms: int = Field(default=200, ge=1, description="Longest wait to fill a batch.")
    metrics_host: str = Field(default="127.0.0.1")
    metrics_port: int = Field(default=9101, description="Prometheus /metrics; 0 turns it off.")
    db_pool_size: int = Field(default=4, ge=1)
    max_backoff_seconds: float = Field(
        default=5.0, gt=0, description="Longest wait between retries while a server is away."
    )
    write_concurrency: int = Field(
        default=2, ge=1, description="Concurrent database transactions per batch (by partition)."
    )
