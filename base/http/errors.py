"""The errors an HTTP service answers with. Domain code raises them; it never builds a response.

    HttpError (ScadaError)        ``http_status``, a machine ``code``, a message, per-field errors
    ├── InvalidRequest      422   the body or a parameter is invalid; ``errors`` lists each
    ├── PayloadTooLarge     413   the body (or what it holds) is over a limit
    ├── UnsupportedMediaType 415  a content type or encoding the endpoint does not take
    ├── Unauthenticated     401   no bearer token, or one we do not know
    ├── Forbidden           403   the caller may not do this
    ├── NotFound            404   no such thing, or not the caller's
    ├── Conflict            409   not in a state that allows this
    ├── Gone                410   it existed and has expired
    ├── TooManyRequests     429   over a rate or a count; ``retry_after`` seconds
    └── Unavailable         503   a server we need is away; ``retry_after`` seconds
        ├── KafkaUnavailable
        └── DatabaseUnavailable

Services subclass these for their own codes (the gateway's ``invalid_readings``);
:func:`base.http.responses.http_error` is the one place any of them becomes a response.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from base.errors import ScadaError


class HttpError(ScadaError):
    http_status = 400
    code = "bad_request"
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        if retry_after is not None:
            self.retry_after = retry_after


class InvalidRequest(HttpError):
    http_status = 422
    code = "invalid_request"

    @classmethod
    def of(cls, message: str, exc: ValidationError) -> InvalidRequest:
        """A 422 listing each field pydantic refused, and why."""
        errors = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
        return cls(message, errors=errors)


class PayloadTooLarge(HttpError):
    http_status = 413
    code = "payload_too_large"


class UnsupportedMediaType(HttpError):
    http_status = 415
    code = "unsupported_media_type"


class Unauthenticated(HttpError):
    http_status = 401
    code = "unauthenticated"


class Forbidden(HttpError):
    http_status = 403
    code = "forbidden"


class NotFound(HttpError):
    http_status = 404
    code = "not_found"


class Conflict(HttpError):
    http_status = 409
    code = "conflict"


class Gone(HttpError):
    http_status = 410
    code = "gone"


class TooManyRequests(HttpError):
    http_status = 429
    code = "too_many_requests"
    retry_after = 5.0


class Unavailable(HttpError):
    http_status = 503
    code = "unavailable"
    retry_after = 5.0


class KafkaUnavailable(Unavailable):
    code = "kafka_unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
