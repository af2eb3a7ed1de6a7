"""Messages on the readings topics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from schemas.base import Message

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""Station ids and sensor names: letters, digits, ``_ . -``; 1 to 64 characters."""

EARLIEST_TS = datetime(1970, 1, 1, tzinfo=UTC)
"""No reading or query range starts before this. Far older instants are valid RFC 3339
but leave the calendar in UTC arithmetic (``0001-01-01T00:30:00+01:00`` is year 0 in
UTC), so the edge refuses them rather than the stream processors failing on them."""

MAX_ABS_VALUE = 1e300
"""No sensor value is larger in magnitude. Rollups add values up (a 1-minute bucket's
sum, then coarser ones); past ~1.8e308 a double overflows and PostgreSQL refuses the
row, so the edge refuses values that could get there rather than dead-lettering them."""

MAX_SENSORS = 256
"""No reading carries more sensor values. One reading is then at most ~25 kB, so any
request within the gateway's body limit splits into messages Kafka accepts."""

SensorValue = Annotated[float, Field(ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]

LATEST_TS = datetime(2200, 1, 1, tzinfo=UTC)
"""No instant is later: query ranges end by then (readings are at most 5 minutes ahead
at the gateway; a message past it would overflow the calendar in rollup arithmetic)."""


def _within_bounds(ts: datetime) -> datetime:
    if not EARLIEST_TS <= ts <= LATEST_TS:
        raise ValueError(f"must be from {EARLIEST_TS.isoformat()} to {LATEST_TS.isoformat()}")
    return ts


Timestamp = Annotated[AwareDatetime, AfterValidator(_within_bounds)]
"""An RFC 3339 instant with an offset, from :data:`EARLIEST_TS` to :data:`LATEST_TS`:
a reading's time, or an end of a query range."""


class Reading(Message):
    """One station's sensor values at one instant; ``None`` means "sensor sent no value"."""

    ts: Timestamp
    values: dict[Identifier, SensorValue | None] = Field(max_length=MAX_SENSORS)


class StationReadingsAccepted(Message):
    """Readings of one station from one accepted ingest, as published to ``scada.readings.v1``.

    Keyed by ``station_id`` so that one station's readings stay ordered in one
    partition. One ingest of several stations produces one message per station
    (split further when a station's share is large); ``chunk`` numbers them.
    """

    schema_version: Literal[1] = 1
    ingest_id: UUID
    org_id: Identifier
    station_id: Identifier
    chunk: int = Field(ge=0, lt=2**31)
    accepted_at: datetime
    readings: list[Reading] = Field(min_length=1)
    # The ingest's receipt, carried by each of its messages so that the stream processors
    # record it with the readings: the gateway's request path never waits on the database.
    token_id: UUID | None = Field(default=None, description="The token that wrote the ingest.")
    ingest_readings: int | None = Field(
        default=None, ge=1, lt=2**31, description="Readings in the ingest."
    )
    ingest_messages: int | None = Field(
        default=None, ge=1, lt=2**31, description="Messages the ingest was published as."
    )


class ReadingDeadLettered(Message):
    """A record the stream processors could never store, on ``scada.readings.dlq.v1``.

    ``payload`` is the original record value, verbatim (UTF-8, or base64 when
    ``payload_encoding`` says so), so that it can be inspected and replayed.
    """

    schema_version: Literal[1] = 1
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    ingest_id: UUID | None = None
    station_id: str | None = None
    payload: str
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    dead_lettered_at: datetime
