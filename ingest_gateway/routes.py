"""HTTP handlers of the gateway. They validate, authorise, publish, and answer; nothing else."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import NotFound
from base.http.requests import read_body
from base.http.responses import ORJSONResponse
from base.transient import database_unavailable
from ingest_gateway import metrics
from ingest_gateway.errors import DatabaseUnavailable
from ingest_gateway.ingests import accepted_status, ingest_status
from ingest_gateway.local_store import AcceptedIngest
from ingest_gateway.state import GatewayState
from ingest_gateway.validation import decode_body, parse_readings

log = logging.getLogger(__name__)


async def post_readings(request: Request) -> Response:
    return await _ingest(request, legacy=False)


async def post_legacy_receiver(request: Request) -> Response:
    """The seed system's ``/api/aws/receiver``: same body, the seed's response shape."""
    return await _ingest(request, legacy=True)


async def _ingest(request: Request, *, legacy: bool) -> Response:
    """Validate, authorise, publish, answer: memory, the local store and Kafka, no database."""
    started = time.perf_counter()
    state: GatewayState = request.app.state.gateway
    token = await state.tokens.authenticate(request.headers.get("authorization"))
    raw = await read_body(request, state.limits.max_body_bytes)
    key = request.headers.get("idempotency-key")
    if key is not None:
        stored = state.store.claim(token.token_id, key, raw)
        if stored is not None:
            return ORJSONResponse(
                stored.body, stored.status_code, headers={"Idempotent-Replayed": "true"}
            )
    try:
        body = decode_body(
            raw,
            request.headers.get("content-type", ""),
            request.headers.get("content-encoding", ""),
            state.limits,
        )
        now = datetime.now(UTC)
        readings = parse_readings(body, state.limits, now)
        await state.tokens.authorize(token, {r["station_id"] for r in readings})
        state.limiter.take(token.token_id, len(readings))
        ingest_id = uuid4()
        messages = await state.publisher.publish(
            ingest_id=ingest_id,
            org_id=token.org_id,
            token_id=token.token_id,
            readings=readings,
            accepted_at=now,
        )
    except BaseException:
        # Whatever went wrong (a refusal, a bug, a client that went away), nothing was
        # acknowledged: the key is free for the client's retry.
        if key is not None:
            _release(state, token.token_id, key)
        raise
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    content = _accepted_body(
        request, ingest_id, len(readings), messages, elapsed_ms, state, legacy=legacy
    )
    accepted = AcceptedIngest(ingest_id, token.org_id, len(readings), messages, now, elapsed_ms)
    try:
        state.store.complete(token.token_id, key, 202, content, accepted)
    except Exception:
        # The readings are durably in Kafka: the answer is a 202 whatever happens here.
        # Without the key's response a retry publishes again, and the database stores
        # each reading once; the stream processors record the ingest's status.
        log.exception("could not record ingest %s in the local store", ingest_id)
        if key is not None:
            _release(state, token.token_id, key)
    metrics.READINGS_ACCEPTED.inc(len(readings))
    metrics.REQUEST_READINGS.observe(len(readings))
    return ORJSONResponse(content, 202)


def _release(state: GatewayState, token_id: UUID, key: str) -> None:
    try:
        state.store.release(token_id, key)
    except Exception:  # the original failure is what the client must hear about
        log.exception("could not release Idempotency-Key")


def _accepted_body(
    request: Request,
    ingest_id: UUID,
    count: int,
    messages: int,
    elapsed_ms: float,
    state: GatewayState,
    *,
    legacy: bool,
) -> dict[str, Any]:
    ours = {
        "ingest_id": str(ingest_id),
        "accepted_count": count,
        "message_count": messages,
        "response_time_ms": elapsed_ms,
        "status_url": str(request.url_for("ingest_status", ingest_id=str(ingest_id))),
    }
    if not legacy:
        return {"status": "accepted", **ours}
    return {
        "status": "accepted",
        "message": "Data accepted and durably queued in Kafka for storage.",
        "data_count": count,
        "queue": state.topics.readings.name,
        **ours,
    }


async def get_ingest(request: Request) -> Response:
    state: GatewayState = request.app.state.gateway
    token = await state.tokens.authenticate(request.headers.get("authorization"))
    try:
        ingest_id = UUID(request.path_params["ingest_id"])
    except ValueError:
        raise NotFound("no such ingest") from None
    local = state.store.accepted(ingest_id, token.org_id)
    try:
        status = await state.database_calls.run(
            lambda: ingest_status(state.pool, ingest_id, token.org_id), 2.0
        )
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        if local is None:
            raise DatabaseUnavailable(
                "the ingest's status is kept in the database, which is unavailable; retry",
                retry_after=5.0,
            ) from exc
        status = accepted_status(local, storage_available=False)
    if status is None and local is not None:  # accepted here, nothing stored of it yet
        status = accepted_status(local, storage_available=True)
    elif status is not None and local is not None and status["response_time_ms"] is None:
        status["response_time_ms"] = local.response_time_ms
    if status is None:
        raise NotFound("no such ingest")
    return ORJSONResponse(status)


async def healthz(request: Request) -> Response:
    return ORJSONResponse({"status": "ok"})


async def openapi(request: Request) -> Response:
    from ingest_gateway.openapi import OPENAPI

    return ORJSONResponse(OPENAPI)
