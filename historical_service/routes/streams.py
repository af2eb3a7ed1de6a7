"""The server-sent event feeds: a user's job events, one station's live readings, and the
alarm transitions of a user's stations.

Both send a heartbeat comment every ``stream_heartbeat_seconds`` and at each one check
that their user was not revoked; a user holds at most ``max_streams_per_user``
(``HistoricalSettings``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from base.http.errors import Forbidden, InvalidRequest, TooManyRequests
from historical_service import stations
from historical_service.events import decode_position
from historical_service.live import live_frame
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import User, denied_stations, is_revoked
from schemas.readings import IDENTIFIER_PATTERN

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_STATION_ID = re.compile(IDENTIFIER_PATTERN)
T = TypeVar("T")


@authenticated
async def events(request: Request, user: User, state: ApiState) -> Response:
    user_id = str(user.user_id)
    slot = StreamSlot(state, user)
    queue, live_from = state.events.subscribe(user_id)
    resume = decode_position(request.headers.get("last-event-id", ""), len(live_from))

    def frame(event_id: str, event: Any) -> bytes:
        data = event.model_dump_json()
        return f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n".encode()

    def end() -> None:
        state.events.unsubscribe(user_id, queue)
        slot.release()

    async def stream() -> AsyncGenerator[bytes, None]:
        yield b"retry: 2000\n: connected\n\n"
        if resume is not None:  # what the client missed while away, then live
            # aclosing: a client gone mid-replay stops the replay's consumer now.
            replay = state.events.replay(user_id, resume, live_from)
            async with contextlib.aclosing(replay) as missed:
                async for event_id, event in missed:
                    yield frame(event_id, event)
        async for item in _until_revoked(queue.get, state, user):
            yield b": heartbeat\n\n" if isinstance(item, Heartbeat) else frame(*item)

    return _event_stream(stream(), end)


@authenticated
async def live_readings(request: Request, user: User, state: ApiState) -> Response:
    """SSE: a ``snapshot`` of the last ``minutes`` (default 10, at most 60), then ``readings``."""
    station = request.path_params["station_id"]
    if not _STATION_ID.fullmatch(station):
        raise InvalidRequest("a station id is 1-64 letters, digits, '_.-'")
    if await denied_stations(state.pool, user, [station]):
        raise Forbidden(f"you may not read station {station}")
    minutes = _minutes(request.query_params.get("minutes", "10"))
    slot = StreamSlot(state, user)
    watch = state.live.watch(station, minutes * 60)  # before the snapshot: no gap between

    def end() -> None:
        state.live.unwatch(watch)
        slot.release()

    try:
        with contextlib.suppress(TimeoutError):  # a slow broker must not hold up the snapshot
            await asyncio.wait_for(watch.ready.wait(), 3)
        since = datetime.now(UTC) - timedelta(minutes=minutes)
        snapshot = await stations.recent_readings(state.pool, station, since)
    except BaseException:
        end()
        raise

    async def stream() -> AsyncGenerator[bytes, None]:
        yield b"retry: 2000\n: connected\n\n"
        yield b"event: snapshot\ndata: " + live_frame(station, snapshot) + b"\n\n"
        async for frame in _until_revoked(watch.queue.get, state, user):
            if isinstance(frame, Heartbeat):
                yield b": heartbeat\n\n"
            elif frame is None:  # fell too far behind: end, the browser reconnects
                return
            else:
                yield b"event: readings\ndata: " + frame + b"\n\n"

    return _event_stream(stream(), end)


@authenticated
async def alarm_stream(request: Request, user: User, state: ApiState) -> Response:
    """SSE: an ``alarm`` event per transition of the user's stations, from now on (read
    ``GET /v1/alarms`` for the state as it is; this brings what changes)."""
    granted = await stations.station_ids(state.pool, user)
    slot = StreamSlot(state, user)
    watch = state.alarms.watch(user, granted)

    def end() -> None:
        state.alarms.unwatch(watch)
        slot.release()

    async def stream() -> AsyncGenerator[bytes, None]:
        yield b"retry: 2000\n: connected\n\n"
        async for item in _until_revoked(watch.queue.get, state, user):
            if isinstance(item, Heartbeat):
                yield b": heartbeat\n\n"
            elif item is None:  # fell too far behind: end, the browser reconnects
                return
            else:
                data = item.model_dump_json()
                yield f"id: {item.event_id}\nevent: alarm\ndata: {data}\n\n".encode()

    return _event_stream(stream(), end)


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if not 1 <= minutes <= 60:
        raise InvalidRequest("minutes must be a whole number from 1 to 60")
    return minutes


class Heartbeat:
    """Nothing arrived for a heartbeat's time (and the user is still allowed)."""


async def _until_revoked(
    get: Callable[[], Awaitable[T]], state: ApiState, user: User
) -> AsyncIterator[T | Heartbeat]:
    """What ``get`` returns, and a :class:`Heartbeat` when nothing did; ends once the user is
    revoked."""
    while True:
        try:
            item = await asyncio.wait_for(get(), state.settings.stream_heartbeat_seconds)
        except TimeoutError:
            if await is_revoked(state.pool, user.user_id):
                return
            yield Heartbeat()
            continue
        yield item


def _event_stream(body: AsyncGenerator[bytes, None], end: Callable[[], None]) -> Response:
    """``body`` as ``text/event-stream``; ``end`` runs once it is over, however it ends.

    The background task also runs when the client left before the stream began (the
    generator's ``finally`` never runs then); ``end`` must be safe to call twice.
    """

    async def stream() -> AsyncIterator[bytes]:
        try:  # aclosing: a client gone mid-stream closes ``body`` (and what it holds) now
            async with contextlib.aclosing(body) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            end()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
        background=BackgroundTask(end),
    )


class TooManyStreams(TooManyRequests):
    code = "too_many_streams"


class StreamSlot:
    """One of a user's open streams, taken when the request is answered; released once."""

    def __init__(self, state: ApiState, user: User) -> None:
        limit = state.settings.max_streams_per_user
        if state.streams[user.user_id] >= limit:
            raise TooManyStreams(f"at most {limit} open streams per user; close one first")
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
