"""What the gateway answers when it cannot accept a request.

The gateway's own codes, on the shared tree of :mod:`base.http.errors`:

    InvalidReadings (InvalidRequest)          422  readings failed validation; ``errors`` lists each
    IdempotencyConflict (Conflict)            409  the same key with another body, or in flight
    RateLimited (TooManyRequests)             429  over the token's rate; ``retry_after`` seconds

and, unchanged, ``PayloadTooLarge`` 413, ``UnsupportedMediaType`` 415,
``Unauthenticated`` 401, ``Forbidden`` 403, ``KafkaUnavailable`` 503 and
``DatabaseUnavailable`` 503 (only what needs the database: a token new since the last
refresh, a new station, an ingest's status).
``app.py`` answers all of them in one handler (the legacy path in the seed's shape).
"""

from __future__ import annotations

from base.http.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidRequest,
    KafkaUnavailable,
    PayloadTooLarge,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
)

__all__ = [
    "DatabaseUnavailable",
    "Forbidden",
    "IdempotencyConflict",
    "InvalidReadings",
    "KafkaUnavailable",
    "PayloadTooLarge",
    "RateLimited",
    "Unauthenticated",
    "UnsupportedMediaType",
]


class InvalidReadings(InvalidRequest):
    code = "invalid_readings"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class RateLimited(TooManyRequests):
    code = "rate_limited"
