"""HTTP handlers of the historical API. The API never runs a query: it publishes a command."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from historical_service import jobs
from historical_service import stations as station_reads
from historical_service.events import EventBroker, decode_position
from historical_service.live import LiveFeed, live_frame
from historical_service.resolution import plan
from historical_service.result_pages import json_page
from historical_service.settings import HistoricalSettings
from historical_service.users import User, denied_stations, is_revoked, user_by_token
from schemas.historical import HistoricalJobQueued, Lane, RunHistoricalQuery
from schemas.readings import IDENTIFIER_PATTERN, Identifier, Timestamp
from schemas.topics import TopicSet

HEARTBEAT_SECONDS = 15.0
"""A stream sends a comment this often, and checks its user was not revoked."""
MAX_STREAMS_PER_USER = 8
"""Open SSE streams (job events and live charts together) per user; more is a 429."""
_STATION_ID = re.compile(IDENTIFIER_PATTERN)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stations: Annotated[list[Identifier], Field(min_length=1, max_length=100)]
    sensors: Annotated[list[Identifier], Field(min_length=1, max_length=256)]
    start: Timestamp
    end: Timestamp
    resolution: str = Field(default="auto", max_length=32)
    lane: Lane | None = None


@dataclass(frozen=True)
class ApiState:
    settings: HistoricalSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topics: TopicSet
    events: EventBroker
    live: LiveFeed
    streams: Counter[UUID] = field(default_factory=Counter)
    """Open SSE streams per user."""


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _problem(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    return ORJSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


async def _user(request: Request) -> User | Response:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return _problem(401, "unauthenticated", "send 'Authorization: Bearer <user token>'")
    state: ApiState = request.app.state.api
    user = await user_by_token(state.pool, secret.strip())
    return user or _problem(401, "unauthenticated", "the token is unknown")


Handler = Callable[[Request, User, ApiState], Awaitable[Response]]


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` with the caller's user and the app state; a 401 without a valid token."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        user = await _user(request)
        if isinstance(user, Response):
            return user
        return await handler(request, user, request.app.state.api)

    return endpoint


def _job_view(job: dict[str, Any], base: str) -> dict[str, Any]:
    job_id = job["job_id"]
    view = {
        "job_id": str(job_id),
        "status": job["status"],
        "lane": job["lane"],
        "progress": job["progress"],
        "rows_done": job["rows_done"],
        "stations": job["stations"],
        "sensors": job["sensors"],
        "start": job["range_start"].isoformat(),
        "end": job["range_end"].isoformat(),
        "resolution": job["resolution"],
        "queued_at": job["queued_at"].isoformat(),
        "started_at": job["started_at"].isoformat() if job["started_at"] else None,
        "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
        "error": job["error"],
        "status_url": f"{base}/v1/historical-jobs/{job_id}",
        "result_url": f"{base}/v1/historical-jobs/{job_id}/result"
        if job["status"] == "completed"
        else None,
    }
    return view


@authenticated
async def create_job(request: Request, user: User, state: ApiState) -> Response:
    try:
        body = JobRequest.model_validate_json(await _bounded_body(request))
        query_plan = plan(body.resolution, body.start, body.end)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
        return _problem(422, "invalid_request", "the job request is invalid", errors=errors)
    except BodyTooLarge as exc:
        return _problem(413, "payload_too_large", str(exc))
    except ValueError as exc:
        return _problem(422, "invalid_request", f"resolution: {exc}")
    if body.end <= body.start:
        return _problem(422, "invalid_request", "end must be after start")
    denied = await denied_stations(state.pool, user, body.stations)
    if denied:
        return _problem(403, "forbidden", f"you may not read station(s): {', '.join(denied)}")
    if body.end - body.start > user.max_range:
        return _problem(
            403, "forbidden", f"the range exceeds your limit of {user.max_range.days} days"
        )
    lane: Lane = body.lane or (
        "bulk"
        if query_plan.is_raw and body.end - body.start > user.max_range / 100
        else "interactive"
    )
    base = state.settings.public_url
    reusable = await jobs.find_reusable(
        state.pool,
        user_id=user.user_id,
        stations=body.stations,
        sensors=body.sensors,
        start=body.start,
        end=body.end,
        resolution=body.resolution,
    )
    if reusable is not None:  # the same heavy query is on its way, or its answer still holds
        reused_id, status = reusable
        return _accepted(base, reused_id, status, reused=True)
    job_id = uuid4()
    command = RunHistoricalQuery(
        job_id=job_id,
        user_id=str(user.user_id),
        org_id=user.org_id,
        lane=lane,
        stations=body.stations,
        sensors=body.sensors,
        start=body.start,
        end=body.end,
        resolution=body.resolution,
        requested_at=datetime.now(UTC),
    )
    await jobs.insert_job(state.pool, command)
    requests, events = state.topics.historical_requests, state.topics.historical_events
    try:
        async with asyncio.timeout(5):
            await state.producer.send_and_wait(
                requests.name, requests.serialize(command), key=str(job_id).encode()
            )
            queued = HistoricalJobQueued(
                job_id=job_id, user_id=str(user.user_id), occurred_at=datetime.now(UTC), lane=lane
            )
            await state.producer.send_and_wait(
                events.name, events.serialize(queued), key=str(job_id).encode()
            )
    except (TimeoutError, KafkaError):
        await jobs.finish(state.pool, job_id, "failed", rows=0, error="kafka_unavailable")
        return _problem(
            503, "kafka_unavailable", "could not queue the job; retry", {"Retry-After": "5"}
        )
    return _accepted(base, job_id, "queued", lane=lane)


MAX_BODY_BYTES = 64 * 1024
"""A job request is a few hundred bytes; the body is read no further than this."""


class BodyTooLarge(Exception):
    pass


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is {declared} bytes; the limit is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _accepted(base: str, job_id: UUID, status: str, **extra: Any) -> Response:
    """The 202 for a job request: the job, its status and where to follow it."""
    return ORJSONResponse(
        {
            "job_id": str(job_id),
            "status": status,
            **extra,
            "status_url": f"{base}/v1/historical-jobs/{job_id}",
            "events_url": f"{base}/v1/events",
        },
        202,
    )


@authenticated
async def get_job(request: Request, user: User, state: ApiState) -> Response:
    job = await _own_job(request, user, state)
    if job is None:
        return _problem(404, "not_found", "no such job")
    return ORJSONResponse(_job_view(job, state.settings.public_url))


@authenticated
async def list_jobs(request: Request, user: User, state: ApiState) -> Response:
    rows = await jobs.list_jobs(state.pool, user.user_id)
    return ORJSONResponse({"jobs": [_job_view(j, state.settings.public_url) for j in rows]})


@authenticated
async def cancel_job(request: Request, user: User, state: ApiState) -> Response:
    job_id = _job_id(request)
    status = None if job_id is None else await jobs.request_cancel(state.pool, job_id, user.user_id)
    if status is None:
        return _problem(404, "not_found", "no such job")
    return ORJSONResponse({"job_id": str(job_id), "status": status, "cancel_requested": True}, 202)


@authenticated
async def job_result(request: Request, user: User, state: ApiState) -> Response:
    job = await _own_job(request, user, state)
    if job is None:
        return _problem(404, "not_found", "no such job")
    if job["status"] != "completed":
        return _problem(409, "not_ready", f"the job is {job['status']}")
    path = Path(job["result_path"] or "")
    expired = job["result_expires_at"] < datetime.now(UTC) or not job["result_path"]
    if expired or not path.exists():  # noqa: ASYNC240 (one local stat)
        return _problem(410, "expired", "the result has expired; run the job again")
    if "text/csv" in request.headers.get("accept", ""):
        return StreamingResponse(_stream_file(path), media_type="text/csv")
    try:
        offset = max(0, int(request.query_params.get("offset", "0")))
        limit = max(1, min(int(request.query_params.get("limit", "10000")), 100_000))
    except ValueError:
        return _problem(422, "invalid_request", "offset and limit must be whole numbers")
    try:
        page = await json_page(path, offset, limit, job["rows_done"])
    except FileNotFoundError:  # the janitor removed it since the check above
        return _problem(410, "expired", "the result has expired; run the job again")
    return ORJSONResponse(page)


async def _stream_file(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:  # each read in a thread: a slow disk never stalls the event loop
        while chunk := await asyncio.to_thread(handle.read, 1 << 20):
            yield chunk
    finally:
        handle.close()


def _streams_full(state: ApiState, user: User) -> Response | None:
    if state.streams[user.user_id] >= MAX_STREAMS_PER_USER:
        return _problem(
            429,
            "too_many_streams",
            f"at most {MAX_STREAMS_PER_USER} open streams per user; close one first",
            {"Retry-After": "5"},
        )
    return None


class _StreamSlot:
    """One of a user's open streams, taken when the request is answered; released once.

    Released by the stream's end or by the response's background task (which runs
    also when the client left before the stream began), whichever comes first.
    """

    def __init__(self, state: ApiState, user: User) -> None:
        self._streams = state.streams
        self._user_id = user.user_id
        self._released = False
        self._streams[self._user_id] += 1

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._streams[self._user_id] -= 1
        if self._streams[self._user_id] <= 0:
            del self._streams[self._user_id]


@authenticated
async def events(request: Request, user: User, state: ApiState) -> Response:
    if (full := _streams_full(state, user)) is not None:
        return full
    user_id = str(user.user_id)
    slot = _StreamSlot(state, user)
    queue, live_from = state.events.subscribe(user_id)
    resume = decode_position(request.headers.get("last-event-id", ""), len(live_from))

    def frame(event_id: str, event: Any) -> bytes:
        data = event.model_dump_json()
        return f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n: connected\n\n"
            if resume is not None:  # what the client missed while away, then live
                # aclosing: a client gone mid-replay stops the replay's consumer now.
                replay = state.events.replay(user_id, resume, live_from)
                async with contextlib.aclosing(replay) as missed:
                    async for event_id, event in missed:
                        yield frame(event_id, event)
            while True:
                try:
                    event_id, event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    if await is_revoked(state.pool, user.user_id):
                        return
                    yield b": heartbeat\n\n"
                    continue
                yield frame(event_id, event)
        finally:
            state.events.unsubscribe(user_id, queue)
            slot.release()

    # The background task also runs when the client left before the stream began
    # (the generator's ``finally`` never runs then).
    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
        background=BackgroundTask(_end_events, state, user_id, queue, slot),
    )


@authenticated
async def me(request: Request, user: User, state: ApiState) -> Response:
    return ORJSONResponse(
        {
            "user_id": str(user.user_id),
            "name": user.name,
            "org_id": user.org_id,
            "stations": "*" if user.all_stations else sorted(user.stations),
            "max_range_days": user.max_range.days,
        }
    )


@authenticated
async def list_stations(request: Request, user: User, state: ApiState) -> Response:
    ids = await station_reads.station_ids(state.pool, user)
    now = datetime.now(UTC)
    found = await station_reads.statuses(state.pool, ids)
    return ORJSONResponse({"stations": [s.view(now) for s in found], "as_of": now.isoformat()})


@authenticated
async def live_readings(request: Request, user: User, state: ApiState) -> Response:
    """SSE: a ``snapshot`` of the last ``minutes`` (default 10, at most 60), then ``readings``."""
    station = request.path_params["station_id"]
    if not _STATION_ID.fullmatch(station):
        return _problem(422, "invalid_request", "a station id is 1-64 letters, digits, '_.-'")
    if await denied_stations(state.pool, user, [station]):
        return _problem(403, "forbidden", f"you may not read station {station}")
    try:
        minutes = int(request.query_params.get("minutes", "10"))
    except ValueError:
        minutes = -1
    if not 1 <= minutes <= 60:
        return _problem(422, "invalid_request", "minutes must be a whole number from 1 to 60")
    if (full := _streams_full(state, user)) is not None:
        return full
    slot = _StreamSlot(state, user)
    watch = state.live.watch(station, minutes * 60)  # before the snapshot: no gap between
    try:
        with contextlib.suppress(TimeoutError):  # a slow broker must not hold up the snapshot
            await asyncio.wait_for(watch.ready.wait(), 3)
        since = datetime.now(UTC) - timedelta(minutes=minutes)
        snapshot = await station_reads.recent_readings(state.pool, station, since)
    except BaseException:
        state.live.unwatch(watch)
        slot.release()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n: connected\n\n"
            yield b"event: snapshot\ndata: " + live_frame(station, snapshot) + b"\n\n"
            while True:
                try:
                    frame = await asyncio.wait_for(watch.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    if await is_revoked(state.pool, user.user_id):
                        return
                    yield b": heartbeat\n\n"
                    continue
                if frame is None:  # fell too far behind: end, the browser reconnects
                    return
                yield b"event: readings\ndata: " + frame + b"\n\n"
        finally:
            state.live.unwatch(watch)
            slot.release()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
        background=BackgroundTask(_end_live, state, watch, slot),
    )


def _end_events(state: ApiState, user_id: str, queue: Any, slot: _StreamSlot) -> None:
    state.events.unsubscribe(user_id, queue)
    slot.release()


def _end_live(state: ApiState, watch: Any, slot: _StreamSlot) -> None:
    state.live.unwatch(watch)
    slot.release()


def _job_id(request: Request) -> UUID | None:
    try:
        return UUID(request.path_params["job_id"])
    except ValueError:
        return None


async def _own_job(request: Request, user: User, state: ApiState) -> dict[str, Any] | None:
    job_id = _job_id(request)
    return None if job_id is None else await jobs.get_job(state.pool, job_id, user.user_id)
