"""A completed job's rows: CSV streamed from the file, or JSON a page at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from base.http.errors import Conflict, Gone, InvalidRequest
from base.http.responses import ORJSONResponse
from historical_service.result_pages import json_page
from historical_service.result_zones import Rezoner
from historical_service.routes.authentication import authenticated
from historical_service.routes.jobs import own_job
from historical_service.state import ApiState
from historical_service.users import User
from schemas.users import check_time_zone

log = logging.getLogger(__name__)


class JobNotReady(Conflict):
    code = "not_ready"


class ResultExpired(Gone):
    code = "expired"

    def __init__(self) -> None:
        super().__init__("the result has expired; run the job again")


@authenticated
async def job_result(request: Request, user: User, state: ApiState) -> Response:
    job = await own_job(request, user, state)
    if job["status"] != "completed":
        raise JobNotReady(f"the job is {job['status']}")
    path = Path(job["result_path"] or "")
    expired = job["result_expires_at"] < datetime.now(UTC) or not job["result_path"]
    if expired or not path.exists():  # noqa: ASYNC240 (one local stat)
        raise ResultExpired
    if "text/csv" in request.headers.get("accept", ""):
        zone = _zone(request.query_params.get("time_zone", "UTC"))
        return StreamingResponse(_stream_file(path, zone), media_type="text/csv")
    try:
        offset = max(0, int(request.query_params.get("offset", "0")))
        wanted = int(request.query_params.get("limit", "10000"))
        limit = max(1, min(wanted, state.settings.max_result_page_rows))
    except ValueError:
        raise InvalidRequest("offset and limit must be whole numbers") from None
    try:
        page = await json_page(path, offset, limit, job["rows_done"])
    except FileNotFoundError:  # the janitor removed it since the check above
        raise ResultExpired from None
    return ORJSONResponse(page)


def _zone(name: str) -> ZoneInfo | None:
    """The zone a CSV's times are written in; None for UTC (the file as it is)."""
    try:
        check_time_zone(name)
    except ValueError as exc:
        raise InvalidRequest(f"time_zone: {exc}") from None
    return None if name == "UTC" else ZoneInfo(name)


async def _stream_file(path: Path, zone: ZoneInfo | None = None) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    rezoner = Rezoner(zone) if zone else None
    # Each read, and each chunk's rezoning, in a thread: the event loop never waits on
    # the disk, and shares the CPU with a rezoning download (~200k rows/s here).
    try:
        while chunk := await asyncio.to_thread(handle.read, 1 << 20):
            yield await asyncio.to_thread(rezoner.feed, chunk) if rezoner else chunk
        if rezoner:
            yield rezoner.end()
    except Exception:
        log.exception("result %s: the CSV download stopped part way", path.name)
        raise
    finally:
        handle.close()
