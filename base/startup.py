"""What every service does first: reconcile its topics and bring the database schema up to date."""

from __future__ import annotations

from base.kafka_topics import ensure_topics
from base.settings import PlatformSettings
from base.storage.database import prepare_database


async def prepare_platform(settings: PlatformSettings) -> None:
    """Create or reconcile the declared topics, then apply migrations. Idempotent."""
    await ensure_topics(
        settings.effective_kafka_bootstrap,
        settings.topics.all(),
        replication_override=settings.topic_replication_factor,
    )
    await prepare_database(settings.effective_database_url)
