"""``scada status``: the whole pipeline on one screen.

Components, consumer lag, dead letters, the historical job queue and firing
alerts, each read on its own: a part that cannot be read says why, and the
rest is still shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import asyncpg
import httpx
import typer

from base.errors import ScadaError, ServerUnavailable
from base.kafka_operations import consumer_lag, dead_letter_depth, lag_by_group
from base.settings import PlatformSettings
from historical_service.jobs.requests import queue_by_lane
from tooling.cli.database import database_pool
from tooling.cli.output import AsJson, say, to_json
from tooling.cli.status_view import Alert, LaneQueue, StatusReport, alert_of, render
from tooling.cli.watch import Interval, Watch, watch
from tooling.local_stack.stack import LocalStack

T = TypeVar("T")
PART_TIMEOUT = 15.0  # seconds for one part; past it the part is shown as unavailable
ALERTMANAGER_TIMEOUT = 3.0


def status(as_json: AsJson = False, watching: Watch = False, interval: Interval = 5.0) -> None:
    """The whole pipeline on one screen.

    Components (as `scada stack status`), consumer lag per group, dead letters,
    historical jobs waiting per lane, and Alertmanager's firing alerts.
    """
    settings = PlatformSettings()

    def show(report: StatusReport) -> str:
        return to_json(report.as_json(), compact=watching) if as_json else render(report)

    if watching:
        watch(
            lambda: gather(settings),
            show,
            interval=interval,
            title="scada status",
            json_lines=as_json,
        )
    else:
        typer.echo(show(asyncio.run(gather(settings))))


async def gather(settings: PlatformSettings) -> StatusReport:
    unavailable: dict[str, str] = {}
    bootstrap = settings.effective_kafka_bootstrap

    async def part(name: str, work: Awaitable[T]) -> T | None:
        try:
            return await asyncio.wait_for(work, PART_TIMEOUT)
        except TimeoutError:
            unavailable[name] = f"no answer in {PART_TIMEOUT:g} s"
        except (ScadaError, asyncpg.PostgresError) as exc:
            unavailable[name] = str(exc)
        return None

    with _quiet_kafka_client():
        components, partitions, dead, queue, alerts = await asyncio.gather(
            LocalStack(settings, say=say).status(),
            part("consumer_lag", consumer_lag(bootstrap)),
            part("dead_letters", dead_letter_depth(bootstrap, settings.topics.readings_dlq)),
            part("job_queue", _job_queue(settings.effective_database_url)),
            part("alerts", firing_alerts(settings.alertmanager_url)),
        )
    return StatusReport(
        components=components,
        consumer_lag=None if partitions is None else lag_by_group(partitions),
        dead_letters=dead,
        job_queue=queue,
        alerts=alerts,
        unavailable=unavailable,
    )


async def _job_queue(url: str) -> list[LaneQueue]:
    async with database_pool(url) as pool:
        rows = await queue_by_lane(pool)
    return [LaneQueue(r["lane"], r["queued"], r["oldest_wait_seconds"]) for r in rows]


async def firing_alerts(url: str) -> list[Alert]:
    """Alertmanager's active alerts (``GET /api/v2/alerts?active=true``)."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=ALERTMANAGER_TIMEOUT) as client:
            response = await client.get("/api/v2/alerts", params={"active": "true"})
            response.raise_for_status()
            answer = response.json()
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ServerUnavailable(f"alertmanager not running ({url})") from exc
    except (httpx.HTTPError, ValueError) as exc:
        # Something else holds the port (a second Kafka broker of `--brokers 3`, say).
        raise ServerUnavailable(f"alertmanager at {url} did not answer as one: {exc}") from exc
    if not isinstance(answer, list) or not all(isinstance(a, dict) for a in answer):
        raise ServerUnavailable(f"alertmanager at {url} answered something else than alerts")
    return [alert_of(a) for a in answer]


@contextlib.contextmanager
def _quiet_kafka_client() -> Iterator[None]:
    # aiokafka logs each refused connection at ERROR; status says "unavailable" instead.
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
