"""The gateway's OpenAPI document, served at ``/openapi.json``.

Request schemas come from the same pydantic models that validate requests.
"""

from __future__ import annotations

from typing import Any

from ingest_gateway.validation import REQUEST

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Machine-readable code."},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each bad reading: its index in `readings`, the field and why.",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": ["integer", "null"]},
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}

_ACCEPTED = {
    "type": "object",
    "required": ["status", "ingest_id", "accepted_count", "response_time_ms", "status_url"],
    "properties": {
        "status": {"const": "accepted"},
        "ingest_id": {"type": "string", "format": "uuid"},
        "accepted_count": {"type": "integer"},
        "message_count": {"type": "integer"},
        "response_time_ms": {"type": "number"},
        "status_url": {"type": "string", "format": "uri"},
        "message": {"type": "string", "description": "Legacy route only."},
        "data_count": {"type": "integer", "description": "Legacy route only."},
        "queue": {"type": "string", "description": "Legacy route only: the Kafka topic."},
    },
}


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}
        }
    return response


def _ingest_operation(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "A repeat within 24 h gets the first response; publishes nothing.",
            },
            {
                "name": "Content-Encoding",
                "in": "header",
                "required": False,
                "schema": {"enum": ["gzip", "identity"]},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ReadingsRequest"}}
            },
        },
        "responses": {
            "202": {
                "description": "Every reading is durably in Kafka (acks=all).",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}
                },
            },
            "401": _error("No token, or an unknown or revoked one."),
            "403": _error("The token may not write one of the stations (they are named)."),
            "409": _error("The Idempotency-Key was used with another body, or is in flight."),
            "413": _error("Body over 16 MiB (inflated), or over 50,000 readings."),
            "415": _error("Not application/json, or an encoding other than gzip."),
            "422": _error("Invalid readings, each listed; nothing was published."),
            "429": _error("Over the token's rate.", retry_after=True),
            "503": _error(
                "Kafka did not acknowledge in time, or (only for a token or station new to the "
                "gateway) the database is unavailable; nothing is accepted.",
                retry_after=True,
            ),
        },
    }


def _schemas() -> dict[str, Any]:
    request = REQUEST.json_schema(ref_template="#/components/schemas/{model}")
    definitions = request.pop("$defs", {})
    return {"ReadingsRequest": request, **definitions, "Accepted": _ACCEPTED, "Error": _ERROR}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "scada-pipeline ingest gateway",
        "version": "1",
        "description": "Stations POST readings; a 202 means they are durably in Kafka.",
    },
    "paths": {
        "/v1/readings": {"post": _ingest_operation("Submit readings of one or more stations")},
        "/api/aws/receiver": {
            "post": _ingest_operation("Legacy receiver of the seed system (same body)")
        },
        "/v1/ingests/{ingest_id}": {
            "get": {
                "summary": "How much of an accepted request is stored",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "ingest_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {"description": "persisted_count, dead_lettered_count, state, timings"},
                    "401": _error("No token, or an unknown or revoked one."),
                    "404": _error("No such ingest of this token's organisation."),
                    "503": _error(
                        "The database is unavailable and this gateway did not accept the ingest.",
                        retry_after=True,
                    ),
                },
            }
        },
        "/metrics": {
            "get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}
        },
    },
    "components": {
        "schemas": _schemas(),
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
