"""Turning a request body into validated readings, or a list of everything wrong with it."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict

from ingest_gateway.errors import InvalidReadings, PayloadTooLarge, UnsupportedMediaType
from schemas.readings import EARLIEST_TS, MAX_ABS_VALUE, Identifier

MAX_FUTURE = timedelta(minutes=5)
MAX_LISTED_ERRORS = 1000


# TypedDicts, not models: the gateway only checks and re-encodes readings, so plain
# dicts are all it needs (validation itself costs the same either way).
@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
class ReadingIn(TypedDict):
    """One reading as a station sends it."""

    station_id: Identifier
    ts: AwareDatetime
    values: dict[
        Identifier,
        Annotated[float, Strict(), Field(ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)] | None,
    ]


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False, title="ReadingsRequest"))
class ReadingsRequest(TypedDict):
    """The body of ``POST /v1/readings`` (and of the legacy ``/api/aws/receiver``)."""

    readings: Annotated[list[ReadingIn], Field(min_length=1)]


REQUEST: TypeAdapter[ReadingsRequest] = TypeAdapter(ReadingsRequest)
"""The contract as documented (JSON Schema, OpenAPI); requests are checked by ``_adapter``."""


@functools.lru_cache(maxsize=4)
def _adapter(max_readings: int) -> TypeAdapter[list[ReadingIn]]:
    """The readings list with its count limit inside the one parse.

    pydantic stops at the limit and reports ``too_long`` with the actual count, so an
    oversized request is a 413 without parsing the body a second time.
    """

    @with_config(ConfigDict(extra="forbid", allow_inf_nan=False, title="ReadingsRequest"))
    class Limited(TypedDict):
        readings: Annotated[list[ReadingIn], Field(min_length=1, max_length=max_readings)]

    return TypeAdapter(Limited)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    max_readings: int
    max_sensors: int


def decode_body(body: bytes, content_type: str, content_encoding: str, limits: Limits) -> bytes:
    """Check the media type and inflate gzip, bounded by ``max_body_bytes``."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {media_type or 'missing'!r}"
        )
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported; use gzip")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(body, limits.max_body_bytes + 1)
    except zlib.error as exc:
        raise InvalidReadings(f"the gzip body is corrupt: {exc}") from exc
    if len(inflated) > limits.max_body_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the inflated body exceeds {limits.max_body_bytes} bytes")
    return inflated


def parse_readings(body: bytes, limits: Limits, now: datetime) -> list[ReadingIn]:
    """Validate every reading; raise :class:`InvalidReadings` listing each bad one."""
    try:
        request: Any = _adapter(limits.max_readings).validate_json(body)
    except ValidationError as exc:
        raw = exc.errors(include_url=False, include_input=False)
        _raise_if_too_many(raw, limits)
        message, errors = _describe(raw)
        raise InvalidReadings(message, errors=errors) from None
    readings: list[ReadingIn] = request["readings"]
    latest = now + MAX_FUTURE
    errors = []
    for index, reading in enumerate(readings):
        ts = reading["ts"]
        if ts > latest:
            errors.append(_error(index, "ts", "is more than 5 minutes in the future"))
        elif ts < EARLIEST_TS:
            errors.append(_error(index, "ts", f"is before {EARLIEST_TS.isoformat()}"))
        if len(reading["values"]) > limits.max_sensors:
            errors.append(
                _error(
                    index,
                    "values",
                    f"has {len(reading['values'])} sensors; the limit is {limits.max_sensors}",
                )
            )
    if errors:
        raise InvalidReadings(_summary(errors), errors=errors[:MAX_LISTED_ERRORS])
    return readings


def _raise_if_too_many(raw: list[Any], limits: Limits) -> None:
    """Over the count limit is a 413, whatever else is wrong (pydantic reports it alone)."""
    for error in raw:
        if error["type"] == "too_long" and tuple(error["loc"]) == ("readings",):
            count = error.get("ctx", {}).get("actual_length", "more")
            raise PayloadTooLarge(
                f"{count} readings in one request; the limit is {limits.max_readings}"
            ) from None


def _describe(raw: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    for error in raw:
        loc = error["loc"]
        reason = _reason(error)
        if loc and loc[-1] == "[key]":  # pydantic's marker for "the key, not the value"
            loc = loc[:-1]
            reason = f"sensor name {reason}"
        if len(loc) >= 2 and loc[0] == "readings" and isinstance(loc[1], int):
            field = ".".join(str(part) for part in loc[2:]) or "reading"
            errors.append(_error(loc[1], field, reason))
        else:
            field = ".".join(str(part) for part in loc) or "body"
            errors.append(_error(None, field, reason))
    return _summary(errors), errors[:MAX_LISTED_ERRORS]


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "timezone_aware":
        return "must be an RFC 3339 timestamp with an offset (e.g. 2026-11-23T08:00:00+07:00)"
    if kind == "string_pattern_mismatch":
        return "must be 1 to 64 characters of letters, digits, '_', '.' or '-'"
    if kind in ("less_than_equal", "greater_than_equal"):  # the one bounded number: a value
        return f"must be from {-MAX_ABS_VALUE:g} to {MAX_ABS_VALUE:g}"
    if kind == "json_invalid":
        return f"is not valid JSON: {error.get('ctx', {}).get('error', '')}".rstrip(": ")
    return str(error["msg"]).replace("Input should be", "must be").replace("Input", "value")


def _error(index: int | None, field: str, reason: str) -> dict[str, Any]:
    return {"index": index, "field": field, "reason": reason}


def _summary(errors: list[dict[str, Any]]) -> str:
    bad = {e["index"] for e in errors if e["index"] is not None}
    if not bad:
        return f"the request body is invalid: {errors[0]['field']} {errors[0]['reason']}"
    return f"{len(bad)} reading{'s' if len(bad) > 1 else ''} invalid; nothing was published"
