"""Messages on the historical-job topics: one command and the job's events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from schemas.base import Message
from schemas.readings import Identifier, Timestamp

Lane = Literal["interactive", "bulk"]


class RunHistoricalQuery(Message):
    """Command: run a historical query for a user (``scada.historical.requests.v1``, key job_id).

    ``resolution`` is ``raw``, an interval such as ``1m`` or ``1h``, or ``auto``.
    Workers re-check the user's grants before running it.
    """

    schema_version: Literal[1] = 1
    job_id: UUID
    user_id: str
    org_id: Identifier
    lane: Lane
    stations: list[Identifier] = Field(min_length=1)
    sensors: list[Identifier] = Field(min_length=1)
    start: Timestamp
    end: Timestamp
    resolution: str = Field(max_length=32)
    requested_at: datetime


class _JobEvent(Message):
    schema_version: Literal[1] = 1
    job_id: UUID
    user_id: str
    occurred_at: datetime


class HistoricalJobQueued(_JobEvent):
    type: Literal["queued"] = "queued"
    lane: Lane


class HistoricalJobProgressed(_JobEvent):
    type: Literal["progress"] = "progress"
    progress: float = Field(ge=0, le=1)
    rows_done: int = Field(ge=0)


class HistoricalJobCompleted(_JobEvent):
    type: Literal["completed"] = "completed"
    rows: int = Field(ge=0)
    result_url: str
    expires_at: datetime


class HistoricalJobFailed(_JobEvent):
    type: Literal["failed"] = "failed"
    reason: str = Field(description="Machine-readable, e.g. 'forbidden', 'range_too_long'.")
    detail: str = ""


class HistoricalJobCancelled(_JobEvent):
    type: Literal["cancelled"] = "cancelled"
    rows_done: int = Field(ge=0)


HistoricalJobEvent = Annotated[
    HistoricalJobQueued
    | HistoricalJobProgressed
    | HistoricalJobCompleted
    | HistoricalJobFailed
    | HistoricalJobCancelled,
    Field(discriminator="type"),
]
"""Events of one job on ``scada.historical.events.v1``, keyed by job_id, told apart by ``type``."""

HISTORICAL_JOB_EVENT: TypeAdapter[HistoricalJobEvent] = TypeAdapter(HistoricalJobEvent)
