"""The historical API application (127.0.0.1:8081): routes, lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from base.transient import DATABASE_UNAVAILABLE
from historical_service import api, dashboard
from historical_service.events import EventBroker
from historical_service.live import LiveFeed
from historical_service.openapi import OPENAPI
from historical_service.settings import HistoricalSettings


async def _openapi(request: Request) -> Response:
    return api.ORJSONResponse(OPENAPI)


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """The database (or Kafka) is away: a 503 to retry, not a 500 (the API needs the database)."""
    return api.ORJSONResponse(
        {"error": "unavailable", "message": "the database is unavailable; retry shortly"},
        503,
        headers={"Retry-After": "5"},
    )


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
        try:
            await producer.start()
            await broker.start()
            await live.start()
            app.state.api = api.ApiState(settings, pool, producer, topics, broker, live)
            yield
        finally:
            await live.stop()
            await broker.stop()
            await producer.stop()
            await pool.close()

    return Starlette(
        routes=[
            Route("/v1/historical-jobs", api.create_job, methods=["POST"]),
            Route("/v1/historical-jobs", api.list_jobs, methods=["GET"]),
            Route("/v1/historical-jobs/{job_id}", api.get_job, methods=["GET"]),
            Route("/v1/historical-jobs/{job_id}", api.cancel_job, methods=["DELETE"]),
            Route("/v1/historical-jobs/{job_id}/result", api.job_result, methods=["GET"]),
            Route("/v1/events", api.events),
            Route("/v1/me", api.me),
            Route("/v1/stations", api.list_stations),
            Route("/v1/stations/{station_id}/live", api.live_readings),
            Route("/openapi.json", _openapi),
            Route("/metrics", _metrics),
            *dashboard.routes(settings.effective_dashboard_dir),
        ],
        exception_handlers=dict.fromkeys(DATABASE_UNAVAILABLE, _unavailable),
        lifespan=lifespan,
    )
