"""A completed job's rows: CSV streamed from the file, or JSON a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from base.http.errors import Conflict, Gone, InvalidRequest
from base.http.responses import ORJSONResponse
from historical_service.result_pages import json_page
from historical_service.routes.authentication import authenticated
from historical_service.routes.jobs import own_job
from historical_service.state import ApiState
from historical_service.users import User


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
        return StreamingResponse(_stream_file(path), media_type="text/csv")
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


async def _stream_file(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:  # each read in a thread: a slow disk never stalls the event loop
        while chunk := await asyncio.to_thread(handle.read, 1 << 20):
            yield chunk
    finally:
        handle.close()
