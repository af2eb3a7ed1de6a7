"""The gateway application: routes, the one error-to-HTTP mapping, and the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from base.http.errors import HttpError
from base.http.responses import error_body, error_response, exception_handlers, prometheus_metrics
from base.kafka_clients import durable_producer
from base.startup import prepare_platform
from base.transient import BoundedCalls, cancel_and_wait
from ingest_gateway import metrics, routes
from ingest_gateway.local_store import LocalStore
from ingest_gateway.publisher import ReadingsPublisher
from ingest_gateway.rate_limit import ReadingsRateLimiter
from ingest_gateway.settings import GatewaySettings
from ingest_gateway.state import GatewayState
from ingest_gateway.token_store import TokenStore
from ingest_gateway.validation import Limits

log = logging.getLogger(__name__)

LEGACY_PATH = "/api/aws/receiver"
INGEST_ROUTES = {"/v1/readings": "readings", LEGACY_PATH: "legacy_receiver"}


def create_app(settings: GatewaySettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        topics = settings.topics
        await prepare_platform(settings)
        # min_size=0: a pool that lost its connections in an outage reconnects on demand.
        pool = await asyncpg.create_pool(settings.effective_database_url, min_size=0, max_size=10)
        producer = durable_producer(settings.effective_kafka_bootstrap, client_id="ingest-gateway")
        store = LocalStore(settings.effective_state_dir / "gateway.sqlite3")
        database_calls = BoundedCalls()
        tokens = TokenStore(
            pool,
            calls=database_calls,
            refresh_seconds=settings.token_refresh_seconds,
            max_stations_per_org=settings.max_stations_per_org,
        )
        try:
            await tokens.refresh()  # the one time the gateway needs the database: at start
            await producer.start()
            limits = Limits(
                max_body_bytes=settings.max_body_bytes,
                max_readings=settings.max_readings_per_request,
                max_sensors=settings.max_sensors_per_reading,
            )
            app.state.gateway = GatewayState(
                pool=pool,
                topics=topics,
                tokens=tokens,
                store=store,
                limiter=ReadingsRateLimiter(
                    settings.rate_limit_readings_per_second,
                    burst=max(settings.rate_limit_readings_per_second, limits.max_readings),
                ),
                publisher=ReadingsPublisher(
                    producer,
                    topics.readings,
                    timeout=settings.produce_timeout_seconds,
                    chunk_size=settings.message_chunk_readings,
                    max_message_bytes=settings.message_max_bytes,
                ),
                limits=limits,
                database_calls=database_calls,
            )
            background = [
                asyncio.create_task(_purge_expired(store)),
                asyncio.create_task(tokens.keep_fresh()),
            ]
            try:
                yield
            finally:
                for task in background:
                    await cancel_and_wait(task)
        finally:
            await producer.stop()
            store.close()
            await pool.close()

    return Starlette(
        routes=[
            Route("/v1/readings", routes.post_readings, methods=["POST"]),
            Route(LEGACY_PATH, routes.post_legacy_receiver, methods=["POST"]),
            Route("/v1/ingests/{ingest_id}", routes.get_ingest, name="ingest_status"),
            Route("/openapi.json", routes.openapi),
            Route("/healthz", routes.healthz),
            Route("/metrics", prometheus_metrics),
        ],
        exception_handlers=exception_handlers(gateway_error),
        middleware=[Middleware(RequestMetrics)],
        lifespan=lifespan,
    )


async def _purge_expired(store: LocalStore, every: float = 600.0) -> None:
    """Forget idempotency keys and accepted ingests past their 24 hours, every ten minutes."""
    while True:
        purged = 0
        try:
            while n := store.purge_some():  # a thousand rows at a time, requests in between
                purged += n
                await asyncio.sleep(0)
        except Exception as exc:
            log.warning("could not purge the local store: %r", exc)
        if purged:
            log.info("purged %d expired idempotency keys and accepted ingests", purged)
        await asyncio.sleep(every)


async def gateway_error(request: Request, exc: Exception) -> Response:
    """The one place where a refusal becomes a response: counted, and in the seed's shape
    on the legacy path."""
    assert isinstance(exc, HttpError)
    metrics.REQUESTS_REJECTED.labels(reason=exc.code).inc()
    if request.url.path == LEGACY_PATH:
        return error_response(exc, {"status": "error", **error_body(exc)})
    return error_response(exc)


class RequestMetrics:
    """Counts and times ingest requests by route and status (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = INGEST_ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            metrics.REQUESTS.labels(route=route, status=str(status)).inc()
            metrics.REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
