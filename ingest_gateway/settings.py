"""Settings of the ingest gateway process (``SCADA_`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from base.kafka_clients import MAX_REQUEST_SIZE
from base.settings import PlatformSettings
from schemas.readings import MAX_SENSORS
from schemas.topics import READINGS

_ENVELOPE_ROOM = 64 * 1024  # record headers and batch overhead around a message's value


class GatewaySettings(PlatformSettings):
    host: str = Field(default="127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(default=8080, description="Port of the gateway (HTTP and /metrics).")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, description="Largest (inflated) body.")
    max_readings_per_request: int = Field(default=50_000, ge=1)
    max_sensors_per_reading: int = Field(
        default=MAX_SENSORS,
        ge=1,
        le=MAX_SENSORS,
        description="May be lowered, not raised: the readings contract allows at most this many.",
    )
    produce_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long to wait for Kafka's acks before answering 503."
    )
    rate_limit_readings_per_second: float = Field(
        default=200_000, gt=0, description="Per token; bursts up to one maximal request."
    )
    token_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Tokens are reloaded this often: a revoked token stops working within it.",
    )
    max_stations_per_org: int = Field(
        default=10_000, ge=1, description="Stations one organisation's '*' tokens may register."
    )
    state_dir: Path | None = Field(
        default=None,
        description="The gateway's local store (idempotency keys). Default: $SCADA_HOME/gateway.",
    )
    message_chunk_readings: int = Field(
        default=2000, ge=1, description="Readings of one station per Kafka message, at most."
    )
    message_max_bytes: int = Field(
        default=1024 * 1024,
        ge=64 * 1024,
        description="Bytes of one Kafka message, at most (a larger chunk is halved).",
    )

    @property
    def effective_state_dir(self) -> Path:
        return self.state_dir or self.home / "gateway"

    @model_validator(mode="after")
    def _messages_fit_kafka(self) -> GatewaySettings:
        """A message must fit the producer's request limit and the topic's message limit."""
        topic_limit = int(READINGS.extra_config["max.message.bytes"])
        room = min(MAX_REQUEST_SIZE, topic_limit) - _ENVELOPE_ROOM
        if self.message_max_bytes > room:
            raise ValueError(
                f"message_max_bytes {self.message_max_bytes} exceeds what Kafka takes "
                f"({room}: the producer's max_request_size {MAX_REQUEST_SIZE} and the "
                f"readings topic's max.message.bytes {topic_limit}, less record overhead)"
            )
        return self
