"""Decoding readings messages for storage: a fast path, with the pydantic model as the judge.

Profiling the sink during a catch-up (py-spy, docs/decisions/0004) put 34 % of
its Python time in ``StationReadingsAccepted.model_validate_json`` and most of
the rest in turning the models back into rows. :func:`decode` checks the same
rules on orjson's dicts directly; whatever it does not accept goes through the
model, which either accepts it after all (a form the fast path does not know)
or explains why it cannot be stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import orjson

from schemas.readings import (
    EARLIEST_TS,
    IDENTIFIER_PATTERN,
    LATEST_TS,
    MAX_ABS_VALUE,
    StationReadingsAccepted,
)

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_MAX_SENSORS = 256
_INT4 = 2**31  # chunk numbers and counts are integer columns
_known_names: set[str] = set()

Values = dict[str, float | None]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What ``ingest.ingests`` records of the ingest a message belongs to."""

    ingest_id: UUID
    org_id: str
    token_id: UUID
    reading_count: int
    message_count: int
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """What the writer needs of a readings message."""

    ingest_id: UUID
    station_id: str
    chunk: int
    readings: list[tuple[datetime, Values]]
    # The message as it came off the topic (dead letters carry it); not part of its value.
    raw: bytes | None = field(default=None, compare=False, repr=False)
    receipt: Receipt | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_model(
        cls, message: StationReadingsAccepted, raw: bytes | None = None
    ) -> StoredMessage:
        receipt = None
        if message.token_id and message.ingest_readings and message.ingest_messages:
            receipt = Receipt(
                message.ingest_id,
                message.org_id,
                message.token_id,
                message.ingest_readings,
                message.ingest_messages,
                message.accepted_at,
            )
        return cls(
            message.ingest_id,
            message.station_id,
            message.chunk,
            [(r.ts, dict(r.values)) for r in message.readings],
            raw,
            receipt,
        )


def decode(value: bytes) -> StoredMessage:
    """Decode a ``scada.readings.v1`` value; raise ``ValueError`` with the reason if it is bad."""
    try:
        return _fast(value)
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return StoredMessage.from_model(StationReadingsAccepted.model_validate_json(value), value)


def _fast(value: bytes) -> StoredMessage:
    data = orjson.loads(value)
    if data["schema_version"] != 1:
        raise ValueError("schema_version")
    station = data["station_id"]
    _name(station)
    _name(data["org_id"])
    chunk = data["chunk"]
    if type(chunk) is not int or not 0 <= chunk < _INT4:
        raise ValueError("chunk")
    accepted_at = _instant(data["accepted_at"])
    readings = data["readings"]
    if type(readings) is not list or not readings:
        raise ValueError("readings")
    out = []
    for reading in readings:
        if len(reading) != 2:
            raise ValueError("reading fields")
        ts = _instant(reading["ts"])
        if ts.tzinfo is None or not EARLIEST_TS <= ts <= LATEST_TS:
            raise ValueError("ts")
        values = reading["values"]
        if type(values) is not dict or len(values) > _MAX_SENSORS:
            raise ValueError("values")
        for name, number in values.items():
            if name not in _known_names:
                _name(name)
            if number is not None and (
                type(number) not in (float, int)
                or not math.isfinite(number)
                or abs(number) > MAX_ABS_VALUE
            ):
                raise ValueError("value")
        out.append((ts, values))
    ingest_id = UUID(data["ingest_id"])
    receipt = None
    if (token := data.get("token_id")) is not None:
        counts = data["ingest_readings"], data["ingest_messages"]
        if any(type(n) is not int or not 1 <= n < _INT4 for n in counts):
            raise ValueError("receipt counts")
        receipt = Receipt(ingest_id, data["org_id"], UUID(token), *counts, accepted_at)
    return StoredMessage(ingest_id, station, chunk, out, value, receipt)


def _instant(text: str) -> datetime:
    """``fromisoformat`` for the one shape producers write (``YYYY-MM-DDTHH:MM:SS…``).

    ``fromisoformat`` also takes ISO forms the model refuses (week dates, no dashes);
    anything unusual goes to the model, which decides.
    """
    if len(text) < 19 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt":
        raise ValueError("instant")
    return datetime.fromisoformat(text)


def _name(name: object) -> None:
    if type(name) is not str or not _IDENTIFIER.fullmatch(name):
        raise ValueError("identifier")
    if len(_known_names) < 100_000:
        _known_names.add(name)
