"""What the gateway answers when it cannot accept a request.

    GatewayError (ScadaError)        carries ``http_status``, a machine ``code`` and a message
    ├── InvalidReadings       422    readings failed validation; ``errors`` lists each
    ├── PayloadTooLarge       413    body, inflated body or reading count over the limit
    ├── UnsupportedMediaType  415    not JSON, or an encoding other than gzip
    ├── Unauthenticated       401    no token, or a token we do not know
    ├── Forbidden             403    the token may not write one of the stations
    ├── IdempotencyConflict   409    the same key with another body, or still in flight
    ├── RateLimited           429    over the token's rate; ``retry_after`` seconds
    ├── KafkaUnavailable      503    Kafka did not acknowledge in time; ``retry_after`` seconds
    └── StorageUnavailable    503    only for what needs the database (a token new since the
                                     last refresh, a new station, an ingest's status)

The mapping to HTTP responses lives in one place, ``app.py``.
"""

from __future__ import annotations

from typing import Any

from base.errors import ScadaError


class GatewayError(ScadaError):
    http_status = 400
    code = "bad_request"
    retry_after: float | None = None

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class InvalidReadings(GatewayError):
    http_status = 422
    code = "invalid_readings"


class PayloadTooLarge(GatewayError):
    http_status = 413
    code = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    http_status = 415
    code = "unsupported_media_type"


class Unauthenticated(GatewayError):
    http_status = 401
    code = "unauthenticated"


class Forbidden(GatewayError):
    http_status = 403
    code = "forbidden"


class IdempotencyConflict(GatewayError):
    http_status = 409
    code = "idempotency_conflict"


class RateLimited(GatewayError):
    http_status = 429
    code = "rate_limited"
    retriable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KafkaUnavailable(GatewayError):
    http_status = 503
    code = "kafka_unavailable"
    retriable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(GatewayError):
    http_status = 503
    code = "database_unavailable"
    retriable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
