"""Historical jobs: submit, list, show, cancel.

The API never runs a query: it records the job and publishes a command for the workers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import Conflict, Forbidden, InvalidRequest, KafkaUnavailable, NotFound
from base.http.requests import read_body
from base.http.responses import ORJSONResponse
from historical_service import jobs, stations
from historical_service.resolution import Plan, plan
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import User, denied_stations
from schemas.historical import HistoricalJobQueued, Lane, RunHistoricalQuery
from schemas.readings import MAX_SENSORS, Identifier, Timestamp


class JobEnded(Conflict):
    code = "job_ended"


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stations: Annotated[list[Identifier], Field(min_length=1, max_length=100)]
    sensors: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_SENSORS)]
    start: Timestamp
    end: Timestamp
    resolution: str = Field(default="auto", max_length=32)
    lane: Lane | None = None


@authenticated
async def create_job(request: Request, user: User, state: ApiState) -> Response:
    raw = await read_body(request, state.settings.max_job_request_bytes)
    body, query_plan = _parse(raw)
    denied = await denied_stations(state.pool, user, body.stations)
    if denied:
        raise Forbidden(f"you may not read station(s): {', '.join(denied)}")
    if body.end - body.start > user.max_range:
        raise Forbidden(f"the range exceeds your limit of {user.max_range.days} days")
    unreported = await stations.unreported_sensors(state.pool, body.stations, body.sensors)
    if unreported:
        reason = f"no requested station has reported {', '.join(unreported)}"
        raise InvalidRequest(reason, errors=[{"field": "sensors", "reason": reason}])
    base = state.settings.public_url
    reusable = await jobs.find_reusable(
        state.pool,
        user_id=user.user_id,
        org_id=user.org_id,
        stations=body.stations,
        sensors=body.sensors,
        start=body.start,
        end=body.end,
        resolution=body.resolution,
    )
    if reusable is not None:  # the same heavy query is on its way, or its answer still holds
        reused_id, status = reusable
        return _accepted(base, reused_id, status, reused=True)
    command = RunHistoricalQuery(
        job_id=uuid4(),
        user_id=str(user.user_id),
        org_id=user.org_id,
        lane=body.lane or _lane(body, query_plan, user),
        stations=body.stations,
        sensors=body.sensors,
        start=body.start,
        end=body.end,
        resolution=body.resolution,
        requested_at=datetime.now(UTC),
    )
    await jobs.insert_job(state.pool, command)
    await _queue(state, command)
    return _accepted(base, command.job_id, "queued", lane=command.lane)


def _parse(raw: bytes) -> tuple[JobRequest, Plan]:
    try:
        body = JobRequest.model_validate_json(raw)
        query_plan = plan(body.resolution, body.start, body.end)
    except ValidationError as exc:
        raise InvalidRequest.of("the job request is invalid", exc) from None
    except ValueError as exc:
        raise InvalidRequest(f"resolution: {exc}") from None
    if body.end <= body.start:
        raise InvalidRequest("end must be after start")
    return body, query_plan


def _lane(body: JobRequest, query_plan: Plan, user: User) -> Lane:
    """Long raw exports go to the bulk lane, so they never hold up interactive charts."""
    long_raw = query_plan.is_raw and body.end - body.start > user.max_range / 100
    return "bulk" if long_raw else "interactive"


async def _queue(state: ApiState, command: RunHistoricalQuery) -> None:
    """Publish the command and its ``queued`` event; a job Kafka did not take ends ``failed``."""
    requests, events = state.topics.historical_requests, state.topics.historical_events
    key = str(command.job_id).encode()
    queued = HistoricalJobQueued(
        job_id=command.job_id,
        user_id=command.user_id,
        occurred_at=datetime.now(UTC),
        lane=command.lane,
    )
    try:
        async with asyncio.timeout(5):
            await state.producer.send_and_wait(requests.name, requests.serialize(command), key=key)
            await state.producer.send_and_wait(events.name, events.serialize(queued), key=key)
    except (TimeoutError, KafkaError):
        await jobs.finish(state.pool, command.job_id, "failed", rows=0, error="kafka_unavailable")
        raise KafkaUnavailable("could not queue the job; retry") from None


def _accepted(base: str, job_id: UUID, status: str, **extra: Any) -> Response:
    """The 202 for a job request: the job, its status and where to follow it."""
    return ORJSONResponse(
        {
            "job_id": str(job_id),
            "status": status,
            **extra,
            "status_url": f"{base}/v1/historical-jobs/{job_id}",
            "events_url": f"{base}/v1/events",
        },
        202,
    )


@authenticated
async def get_job(request: Request, user: User, state: ApiState) -> Response:
    return ORJSONResponse(job_view(await own_job(request, user, state), state.settings.public_url))


@authenticated
async def list_jobs(request: Request, user: User, state: ApiState) -> Response:
    rows = await jobs.list_jobs(state.pool, user.user_id)
    return ORJSONResponse({"jobs": [job_view(j, state.settings.public_url) for j in rows]})


@authenticated
async def cancel_job(request: Request, user: User, state: ApiState) -> Response:
    job_id = _job_id(request)
    outcome = await jobs.request_cancel(state.pool, job_id, user.user_id)
    if outcome is None:
        raise NotFound("no such job")
    if not outcome.requested:
        raise JobEnded(f"the job has already ended ({outcome.status}): there is nothing to cancel")
    body = {"job_id": str(job_id), "status": outcome.status, "cancel_requested": True}
    return ORJSONResponse(body, 202)


def job_view(job: dict[str, Any], base: str) -> dict[str, Any]:
    job_id = job["job_id"]
    return {
        "job_id": str(job_id),
        "status": job["status"],
        "lane": job["lane"],
        "progress": job["progress"],
        "rows_done": job["rows_done"],
        "stations": job["stations"],
        "sensors": job["sensors"],
        "start": job["range_start"].isoformat(),
        "end": job["range_end"].isoformat(),
        "resolution": job["resolution"],
        "queued_at": job["queued_at"].isoformat(),
        "started_at": job["started_at"].isoformat() if job["started_at"] else None,
        "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
        "error": job["error"],
        "status_url": f"{base}/v1/historical-jobs/{job_id}",
        "result_url": f"{base}/v1/historical-jobs/{job_id}/result"
        if job["status"] == "completed"
        else None,
    }


def _job_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["job_id"])
    except ValueError:
        raise NotFound("no such job") from None


async def own_job(request: Request, user: User, state: ApiState) -> dict[str, Any]:
    """The path's job, if it is the caller's; :class:`NotFound` otherwise."""
    job = await jobs.get_job(state.pool, _job_id(request), user.user_id)
    if job is None:
        raise NotFound("no such job")
    return job
