"""What every service does first: reconcile its topics and bring the database schema up to date."""

from __future__ import annotations

from scada.kafka_topics import ensure_topics
from scada.settings import PlatformSettings
from scada.storage.database import prepare_database


async def prepare_platform(settings: PlatformSettings) -> None:
    """Create or reconcile the declared topics, then apply migrations. Idempotent."""
    await ensure_topics(
        settings.effective_kafka_bootstrap,
        settings.topics.all(),
        replication_override=settings.topic_replication_factor,
    )
    await prepare_database(settings.effective_database_url)
