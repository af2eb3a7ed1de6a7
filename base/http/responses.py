"""JSON responses, and the one handler that turns an :class:`HttpError` into one."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from base.http.errors import DatabaseUnavailable, HttpError
from base.transient import DATABASE_UNAVAILABLE


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_body(exc: HttpError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return body


def error_response(exc: HttpError, body: Mapping[str, Any] | None = None) -> Response:
    """``exc`` as its status, ``body`` (default :func:`error_body`) and ``Retry-After``."""
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return ORJSONResponse(error_body(exc) if body is None else body, exc.http_status, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    return error_response(exc)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def exception_handlers(on_http_error: Handler = http_error) -> dict[Any, Handler]:
    """Starlette's ``exception_handlers``: typed errors, and the database being away.

    A database error no handler expected is answered as :class:`DatabaseUnavailable`
    (a 503 to retry, not a 500) by the same ``on_http_error``.
    """

    async def database_away(request: Request, exc: Exception) -> Response:
        away = DatabaseUnavailable("the database is unavailable; retry shortly")
        return await on_http_error(request, away)

    return {HttpError: on_http_error, **dict.fromkeys(DATABASE_UNAVAILABLE, database_away)}


async def prometheus_metrics(request: Request) -> Response:
    """Prometheus exposition, at exactly ``/metrics`` (no redirect)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
