"""``python -m alarm_evaluator``: the faust application evaluating alarm rules, with
/metrics (``SCADA_METRICS_PORT``, 9103)."""

from __future__ import annotations

import asyncio
import logging
import os

import faust
from prometheus_client import start_http_server

from alarm_evaluator.app import Evaluator, changelog_topic, commit_uncommitted, ticks_topic
from alarm_evaluator.settings import EvaluatorSettings
from base.kafka_topics import cluster_size, effective_replication, ensure_topics
from base.startup import prepare_platform


async def _prepare(settings: EvaluatorSettings) -> int:
    """The platform's topics and schema, and the evaluator's own topics; its replication."""
    await prepare_platform(settings)
    own = (ticks_topic(settings), changelog_topic(settings))
    await ensure_topics(
        settings.effective_kafka_bootstrap,
        own,
        replication_override=settings.topic_replication_factor,
    )
    await commit_uncommitted(settings, [settings.topics.readings.name, own[0].name])
    brokers = await cluster_size(settings.effective_kafka_bootstrap)
    return effective_replication(own[1], brokers, settings.topic_replication_factor)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = EvaluatorSettings()
    replication = asyncio.run(_prepare(settings))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    evaluator = Evaluator(settings, replication)
    # faust's worker runs the loop, handles SIGTERM/SIGINT (stopping the agent before the
    # consumer, with a last commit) and exits.
    faust.Worker(
        evaluator.app, loglevel=os.environ.get("SCADA_EVALUATOR_LOGLEVEL", "INFO")
    ).execute_from_commandline()


if __name__ == "__main__":
    main()
