"""The historical API's OpenAPI document, served at ``/openapi.json`` on 8081."""

from __future__ import annotations

from typing import Any

from historical_service.api import JobRequest


def _op(summary: str, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {code: {"description": text} for code, text in responses.items()},
        **extra,
    }


_JOB = [
    {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "scada-pipeline historical API",
        "version": "1",
        "description": "Jobs run in the background; events arrive over SSE.",
    },
    "paths": {
        "/v1/historical-jobs": {
            "post": _op(
                "Queue a historical query (the API never runs it itself)",
                {
                    "202": "job_id, status, status_url, events_url",
                    "401": "no or unknown token",
                    "403": "station not granted, or range too long",
                    "422": "invalid request, each field named",
                    "503": "Kafka unavailable",
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": JobRequest.model_json_schema()}},
                },
            ),
            "get": _op("The caller's jobs, newest first", {"200": "jobs"}),
        },
        "/v1/historical-jobs/{job_id}": {
            "get": _op(
                "Status, progress, rows, timings, error, result_url",
                {"200": "the job", "404": "not the caller's job"},
                parameters=_JOB,
            ),
            "delete": _op(
                "Cancel: the worker stops within a second",
                {"202": "cancel requested", "404": "not the caller's job"},
                parameters=_JOB,
            ),
        },
        "/v1/historical-jobs/{job_id}/result": {
            "get": _op(
                "Paginated JSON (?offset, ?limit), or CSV with Accept: text/csv",
                {"200": "the result", "409": "not completed", "410": "expired"},
                parameters=_JOB,
            ),
        },
        "/v1/events": {
            "get": _op(
                "Server-Sent Events of the caller's jobs (queued, progress, completed, "
                "failed, cancelled); heartbeat comments every 15 s",
                {"200": "text/event-stream"},
            ),
        },
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}
