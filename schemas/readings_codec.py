"""The one readings codec: accepted readings to ``scada.readings.v1`` values and back.

Every service that writes or reads the readings topic uses these two functions;
the bytes are always a :class:`~schemas.readings.StationReadingsAccepted`.

**Encoding** groups readings by station (order kept) and writes them with orjson
straight from the gateway's validated dicts.

**Decoding** has a fast path, with the pydantic model as the judge: validating
through the model dominated the sink's time in a catch-up (docs/decisions/0004),
so :func:`decode` checks the same rules on orjson's dicts directly; whatever it
does not accept goes through the model, which either accepts it after all (a
form the fast path does not know) or explains why it cannot be stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

import orjson

from schemas.readings import (
    EARLIEST_TS,
    IDENTIFIER_PATTERN,
    LATEST_TS,
    MAX_ABS_VALUE,
    MAX_SENSORS,
    StationReadingsAccepted,
)

RECEIPT_ROOM = 128
"""Bytes kept free in each message for the ingest's receipt (at most 108: a UUID, two counts)."""

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_INT4 = 2**31  # chunk numbers and counts are integer columns
_known_names: set[str] = set()

Values = dict[str, float | None]


class ValidatedReading(TypedDict):
    """One validated reading, as the gateway hands it to :func:`encode_messages`."""

    station_id: str
    ts: datetime
    values: Values


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


def encode_messages(
    ingest_id: UUID,
    org_id: str,
    readings: Sequence[ValidatedReading],
    accepted_at: datetime,
    chunk_size: int,
    max_bytes: int = 1024 * 1024,
    *,
    token_id: UUID | None = None,
) -> list[tuple[str, int, bytes]]:
    """``(station_id, chunk, value)`` per message: readings grouped by station, order kept.

    A message has at most ``chunk_size`` readings, and is halved until it has at most
    ``max_bytes`` bytes (or a single reading). With ``token_id``, every message also
    carries the ingest's receipt: the token and the ingest's reading and message counts
    (spliced in after encoding, since the count of messages is known only then).

    Encoded with orjson straight from the validated readings; the bytes are a
    ``StationReadingsAccepted`` (a test decodes them with the topic's model).
    """
    by_station: dict[str, list[dict[str, Any]]] = {}
    for reading in readings:
        by_station.setdefault(reading["station_id"], []).append(
            {"ts": reading["ts"], "values": reading["values"]}
        )
    envelope = {
        "schema_version": 1,
        "ingest_id": str(ingest_id),
        "org_id": org_id,
        "accepted_at": accepted_at,
    }
    # Room for the receipt spliced in below (at most 108 bytes: a UUID and two counts).
    budget = max_bytes - (RECEIPT_ROOM if token_id is not None else 0)
    out: list[tuple[str, int, bytes]] = []
    for station_id, station_readings in by_station.items():
        chunk = 0
        pending = [
            station_readings[start : start + chunk_size]
            for start in range(0, len(station_readings), chunk_size)
        ]
        pending.reverse()
        while pending:
            part = pending.pop()
            value = orjson.dumps(
                {**envelope, "station_id": station_id, "chunk": chunk, "readings": part}
            )
            if len(value) > budget and len(part) > 1:
                half = len(part) // 2
                pending += [part[half:], part[:half]]  # the first half next: order kept
                continue
            out.append((station_id, chunk, value))
            chunk += 1
    if token_id is None:
        return out
    receipt = b',"token_id":"%s","ingest_readings":%d,"ingest_messages":%d}' % (
        str(token_id).encode(),
        len(readings),
        len(out),
    )
    # orjson writes an object as ``{...}``: the receipt goes before its closing brace.
    return [(station, chunk, value[:-1] + receipt) for station, chunk, value in out]


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
        if type(values) is not dict or len(values) > MAX_SENSORS:
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
