"""Settings shared by every process; each service subclasses :class:`PlatformSettings`.

All settings come from the environment with the ``SCADA_`` prefix. One object
is built per process, in ``__main__`` or the app factory, never at import.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import TopicSet

LOCAL_KAFKA_PORT = 9092
"""The local stack's first broker (a three-broker stack takes the next two ports)."""
LOCAL_DATABASE_PORT = 5433
"""The local stack's TimescaleDB (not 5432: a system PostgreSQL may hold that)."""
DEFAULT_KAFKA_BOOTSTRAP = f"127.0.0.1:{LOCAL_KAFKA_PORT}"
DEFAULT_DATABASE_URL = f"postgresql://postgres@127.0.0.1:{LOCAL_DATABASE_PORT}/scada"


def _default_home() -> Path:
    return Path.home() / ".local" / "state" / "scada-pipeline"


def _default_cache() -> Path:
    return Path.home() / ".cache" / "scada-pipeline"


class PlatformSettings(BaseSettings):
    """Where Kafka and TimescaleDB are, and where local state lives.

    ``kafka_bootstrap`` / ``database_url`` left unset mean "the embedded local
    stack"; set, they name existing servers and the stack starts nothing for them.
    """

    model_config = SettingsConfigDict(env_prefix="SCADA_", frozen=True, extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None, description="Existing Kafka bootstrap servers, host:port[,host:port]."
    )
    database_url: str | None = Field(
        default=None, description="Existing TimescaleDB, as a postgresql:// URL."
    )
    home: Path = Field(
        default_factory=_default_home, description="State directory (data, logs, pids)."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache, description="Download cache (jars, root filesystem)."
    )
    topic_namespace: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_.-]*$",
        description="Prefix for every topic name (several environments on one cluster).",
    )
    topic_replication_factor: int | None = Field(
        default=None,
        ge=1,
        description="Override every topic's declared replication factor (e.g. 1 on a dev broker).",
    )
    prometheus_url: str = Field(
        default="http://127.0.0.1:9090",
        description="Prometheus: the local stack runs it here; the operations view reads it.",
    )
    alertmanager_url: str = Field(
        default="http://127.0.0.1:9093",
        description="Alertmanager: the local stack runs it here; `scada status` reads it.",
    )

    @property
    def topics(self) -> TopicSet:
        return TopicSet.for_namespace(self.topic_namespace)

    @property
    def kafka_is_external(self) -> bool:
        return self.kafka_bootstrap is not None

    @property
    def database_is_external(self) -> bool:
        return self.database_url is not None

    @property
    def effective_kafka_bootstrap(self) -> str:
        return self.kafka_bootstrap or DEFAULT_KAFKA_BOOTSTRAP

    @property
    def effective_database_url(self) -> str:
        return self.database_url or DEFAULT_DATABASE_URL
