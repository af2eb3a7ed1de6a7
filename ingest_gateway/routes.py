"""HTTP handlers of the gateway. They validate, authorise, publish, and answer; nothing else."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingest_gateway import metrics
from ingest_gateway.errors import GatewayError, PayloadTooLarge
from ingest_gateway.ingests import ingest_status, record_accepted
from ingest_gateway.state import GatewayState
from ingest_gateway.validation import decode_body, parse_readings


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def post_readings(request: Request) -> Response:
    return await _ingest(request, legacy=False)


async def post_legacy_receiver(request: Request) -> Response:
    """The seed system's ``/api/aws/receiver``: same body, the seed's response shape."""
    return await _ingest(request, legacy=True)


async def _ingest(request: Request, *, legacy: bool) -> Response:
    started = time.perf_counter()
    state: GatewayState = request.app.state.gateway
    token = await state.tokens.authenticate(request.headers.get("authorization"))
    raw = await _read_body(request, state.limits.max_body_bytes)
    key = request.headers.get("idempotency-key")
    if key is not None:
        stored = await state.keys.claim(token.token_id, key, raw)
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
            ingest_id=ingest_id, org_id=token.org_id, readings=readings, accepted_at=now
        )
    except GatewayError:
        if key is not None:
            await state.keys.release(token.token_id, key)
        raise
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    await record_accepted(
        state.pool,
        ingest_id=ingest_id,
        org_id=token.org_id,
        token_id=token.token_id,
        reading_count=len(readings),
        message_count=messages,
        accepted_at=now,
        response_time_ms=elapsed_ms,
    )
    content = _accepted_body(
        request, ingest_id, len(readings), messages, elapsed_ms, state, legacy=legacy
    )
    if key is not None:
        await state.keys.complete(token.token_id, key, 202, content)
    metrics.READINGS_ACCEPTED.inc(len(readings))
    metrics.REQUEST_READINGS.observe(len(readings))
    return ORJSONResponse(content, 202)


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
        return ORJSONResponse({"error": "not_found", "message": "no such ingest"}, 404)
    status = await ingest_status(state.pool, ingest_id, token.org_id)
    if status is None:
        return ORJSONResponse({"error": "not_found", "message": "no such ingest"}, 404)
    return ORJSONResponse(status)


async def prometheus_metrics(request: Request) -> Response:
    """Prometheus exposition, at exactly ``/metrics`` (no redirect)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def healthz(request: Request) -> Response:
    return ORJSONResponse({"status": "ok"})


async def openapi(request: Request) -> Response:
    from ingest_gateway.openapi import OPENAPI

    return ORJSONResponse(OPENAPI)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
