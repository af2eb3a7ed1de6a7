"""The historical API application: routes, lifespan, the error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from base.http.responses import ORJSONResponse, exception_handlers, prometheus_metrics
from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from historical_service.alarm_feed import AlarmFeed
from historical_service.events import EventBroker
from historical_service.live import LiveFeed
from historical_service.openapi import OPENAPI
from historical_service.routes import (
    alarms,
    assets,
    dashboard,
    jobs,
    operations,
    results,
    sensors,
    streams,
)
from historical_service.settings import HistoricalSettings
from historical_service.state import ApiState


async def _openapi(request: Request) -> Response:
    return ORJSONResponse(OPENAPI)


def create_app(settings: HistoricalSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        topics = settings.topics
        bootstrap = settings.effective_kafka_bootstrap
        await prepare_platform(settings)
        pool = await asyncpg.create_pool(settings.effective_database_url, min_size=1, max_size=10)
        producer = durable_producer(bootstrap, client_id="historical-api")
        broker = EventBroker(bootstrap, topics.historical_events)
        live = LiveFeed(bootstrap, topics.readings, producer, sink_group=settings.sink_group)
        alarm_feed = AlarmFeed(bootstrap, topics.alarms)
        try:
            await producer.start()
            await broker.start()
            await live.start()
            await alarm_feed.start()
            app.state.api = ApiState(settings, pool, producer, topics, broker, live, alarm_feed)
            await alarms.publish_all_rules(app.state.api)
            yield
        finally:
            await alarm_feed.stop()
            await live.stop()
            await broker.stop()
            await producer.stop()
            await pool.close()

    return Starlette(
        routes=[
            Route("/v1/historical-jobs", jobs.create_job, methods=["POST"]),
            Route("/v1/historical-jobs", jobs.list_jobs, methods=["GET"]),
            Route("/v1/historical-jobs/{job_id}", jobs.get_job, methods=["GET"]),
            Route("/v1/historical-jobs/{job_id}", jobs.cancel_job, methods=["DELETE"]),
            Route("/v1/historical-jobs/{job_id}/result", results.job_result, methods=["GET"]),
            Route("/v1/events", streams.events),
            Route("/v1/me", dashboard.me, methods=["GET"]),
            Route("/v1/me", dashboard.update_me, methods=["PATCH"]),
            Route("/v1/stations", dashboard.list_stations),
            Route("/v1/operations", operations.operations),
            Route("/v1/sensors", sensors.list_sensors),
            Route("/v1/sensors/{name}", sensors.put_sensor, methods=["PUT"]),
            Route("/v1/sensors/{name}", sensors.delete_sensor, methods=["DELETE"]),
            Route("/v1/stations/{station_id}/live", streams.live_readings),
            Route("/v1/alarm-rules", alarms.list_rules, methods=["GET"]),
            Route("/v1/alarm-rules/{rule_id}", alarms.put_alarm_rule, methods=["PUT"]),
            Route("/v1/alarm-rules/{rule_id}", alarms.delete_alarm_rule, methods=["DELETE"]),
            Route("/v1/alarms", alarms.list_alarms, methods=["GET"]),
            Route("/v1/alarms/history", alarms.alarm_history, methods=["GET"]),
            Route("/v1/alarms/stream", streams.alarm_stream, methods=["GET"]),
            Route("/v1/alarms/{key}/acknowledge", alarms.acknowledge, methods=["POST"]),
            Route("/v1/alarms/{key}/shelve", alarms.shelve, methods=["POST"]),
            Route("/v1/alarms/{key}/unshelve", alarms.unshelve, methods=["POST"]),
            Route("/openapi.json", _openapi),
            Route("/metrics", prometheus_metrics),
            *assets.routes(settings.effective_dashboard_dir),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
