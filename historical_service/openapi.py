"""The historical API's OpenAPI document, served at ``/openapi.json`` on 8081."""

from __future__ import annotations

from typing import Any

from historical_service.routes.jobs import JobRequest
from schemas.alarms import AlarmRuleSpec, ShelveRequest
from schemas.readings import IDENTIFIER_PATTERN
from schemas.sensors import SensorSpec
from schemas.users import DisplaySettings

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable, e.g. 'not_found'"},
        "message": {"type": "string", "description": "what is wrong, for a person"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

_EVERY_OPERATION = {
    "401": "no or unknown token",
    "503": "the database (or Kafka) is unavailable; retry after Retry-After",
}


def _op(summary: str, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
    """An authenticated operation: 401 and 503 are possible on every one."""
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {
            code: _response(code, text) for code, text in {**responses, **_EVERY_OPERATION}.items()
        },
        **extra,
    }


def _response(code: str, text: str) -> dict[str, Any]:
    if code.startswith("2"):
        return {"description": text}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"description": text, "content": error}


_JOB = [
    {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
]

_SENSOR = [
    {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": IDENTIFIER_PATTERN},
    }
]

_RULE = [
    {
        "name": "rule_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": IDENTIFIER_PATTERN},
    }
]

_ALARM = [
    {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "the alarm's key, as GET /v1/alarms lists it",
    }
]

_ALARM_ACTION = {
    "202": "the transition is in Kafka; the alarm sink applies it (event_id)",
    "404": "no such alarm of the user's organisation and granted stations",
    "422": "the key is no UUID",
}

_ALARMS: dict[str, Any] = {
    "/v1/alarm-rules": {
        "get": _op("The organisation's alarm rules, by id", {"200": "org_id, rules"}),
    },
    "/v1/alarm-rules/{rule_id}": {
        "put": _op(
            "Create or replace an alarm rule (org-admin role): limits HH/H/L/LL with deadband "
            "and on-delay, rate of change over a window, or no data; for one station of the "
            "organisation or all of them ('*'). Saved and published to the evaluators "
            "together",
            {
                "200": "the rule",
                "403": "the user lacks the org-admin role",
                "409": "the organisation has 500 rules",
                "413": "a body over 4 KiB",
                "422": "an invalid rule, each field named, or a station of another organisation",
            },
            parameters=_RULE,
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": AlarmRuleSpec.model_json_schema()}},
            },
        ),
        "delete": _op(
            "Remove an alarm rule (org-admin role); its active alarms are cleared",
            {
                "200": "removed",
                "403": "the user lacks the org-admin role",
                "404": "no such rule",
                "422": "an invalid rule id",
            },
            parameters=_RULE,
        ),
    },
    "/v1/alarms": {
        "get": _op(
            "The alarms of the user's stations not in the normal state (?all=true: every "
            "one), worst first: key, alarm_id, condition, severity, state "
            "(active_unacknowledged, active_acknowledged, returned_unacknowledged, normal), "
            "shelved, values and who acknowledged or shelved them",
            {"200": "alarms, as_of"},
            parameters=[{"name": "all", "in": "query", "schema": {"type": "boolean"}}],
        ),
    },
    "/v1/alarms/history": {
        "get": _op(
            "The audit trail: every transition of the user's stations from ?start (default "
            "a day ago) to ?end (default now), newest first, at most ?limit (1-1000, 200)",
            {
                "200": "events, start, end",
                "403": "?station is not granted to the user",
                "422": "start, end or limit invalid",
            },
            parameters=[
                {
                    "name": "start",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {"name": "end", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "station", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                },
            ],
        ),
    },
    "/v1/alarms/stream": {
        "get": _op(
            "Server-Sent Events: an `alarm` event (an AlarmTransition: raised, cleared, "
            "acknowledged, shelved, unshelved) per transition of the user's stations from "
            "now on; read GET /v1/alarms for the state on (re)connecting",
            {
                "200": "text/event-stream",
                "429": "the user has SCADA_MAX_STREAMS_PER_USER (8) streams open",
            },
        ),
    },
    "/v1/alarms/{key}/acknowledge": {
        "post": _op(
            "Acknowledge the alarm (by the user)",
            {**_ALARM_ACTION, "409": "already acknowledged"},
            parameters=_ALARM,
        ),
    },
    "/v1/alarms/{key}/shelve": {
        "post": _op(
            "Shelve the alarm for ?minutes (1 to a week) with a reason; it is unshelved when "
            "the time is up",
            {**_ALARM_ACTION, "413": "a body over 1 KiB"},
            parameters=_ALARM,
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": ShelveRequest.model_json_schema()}},
            },
        ),
    },
    "/v1/alarms/{key}/unshelve": {
        "post": _op(
            "Unshelve the alarm", {**_ALARM_ACTION, "409": "not shelved"}, parameters=_ALARM
        ),
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "scada-pipeline historical API",
        "version": "1",
        "description": "Jobs run in the background; events arrive over SSE. The dashboard "
        "is served at / from the same origin.",
    },
    "paths": {
        "/v1/historical-jobs": {
            "post": _op(
                "Queue a historical query (the API never runs it itself)",
                {
                    "202": "job_id, status, status_url, events_url",
                    "403": "station not granted, or range too long",
                    "413": "a body over the limit (SCADA_MAX_JOB_REQUEST_BYTES, 64 KiB by default)",
                    "422": "invalid request, each field named; or sensors no requested "
                    "station has ever reported (a typo), named",
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
                {
                    "202": "cancel requested",
                    "404": "not the caller's job",
                    "409": "the job has already ended (job_ended)",
                },
                parameters=_JOB,
            ),
        },
        "/v1/historical-jobs/{job_id}/result": {
            "get": _op(
                "Paginated JSON (?offset, ?limit), or CSV with Accept: text/csv; CSV times "
                "are UTC instants with their offset, or in ?time_zone (an IANA name) with "
                "that zone's offset",
                {
                    "200": "the result",
                    "404": "not the caller's job",
                    "409": "not completed",
                    "410": "expired",
                    "422": "offset or limit not a whole number, or time_zone no zone",
                },
                parameters=[
                    *_JOB,
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 100000,
                            "default": 10000,
                        },
                    },
                    {
                        "name": "time_zone",
                        "in": "query",
                        "schema": {"type": "string", "default": "UTC"},
                        "description": "CSV only: the zone its times are written in",
                    },
                ],
            ),
        },
        "/v1/events": {
            "get": _op(
                "Server-Sent Events of the caller's jobs (queued, progress, completed, "
                "failed, cancelled); heartbeat comments every 15 s",
                {
                    "200": "text/event-stream",
                    "429": "the user has SCADA_MAX_STREAMS_PER_USER (8) streams open",
                },
            ),
        },
        "/v1/me": {
            "get": _op(
                "The signed-in user: name, organisation, granted stations, maximum range, roles, "
                "display time_zone (their own, else the organisation's, else UTC), "
                "language (en or id: their own, else the organisation's, else null: the "
                "browser's preference)",
                {"200": "the user"},
            ),
            "patch": _op(
                "Change the caller's own language and/or time_zone; only the fields sent "
                "change, null goes back to the organisation's default",
                {
                    "200": "the user, as GET /v1/me",
                    "413": "a body over 1 KiB",
                    "422": "an unknown field, language or time zone, each field named",
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": DisplaySettings.model_json_schema()}
                    },
                },
            ),
        },
        "/v1/stations": {
            "get": _op(
                "The caller's stations, each with last_seen (newest stored reading), "
                "last_stored_at, health (live ≤ 2 min, late ≤ 30 min, silent, no_data) "
                "and the sensors it has sent",
                {"200": "stations, as_of"},
            ),
        },
        "/v1/operations": {
            "get": _op(
                "The pipeline's health from Prometheus (operator role): firing and pending "
                "alerts; lag per group and partition in messages and seconds; dead letters; "
                "and over the last ?minutes (5-1440, default 60) readings accepted and stored "
                "per second, lag seconds per group, dead letters and job queue wait (p90) per "
                "lane, each series as {labels, points: [[unix seconds, value or null], ...]}",
                {
                    "200": "as_of, minutes, step_seconds, alerts, lag, dead_letters, series",
                    "403": "the user lacks the operator role",
                    "422": "minutes not a whole number from 5 to 1440",
                    "503": "Prometheus (SCADA_PROMETHEUS_URL) did not answer",
                },
                parameters=[
                    {
                        "name": "minutes",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 5,
                            "maximum": 1440,
                            "default": 60,
                        },
                    },
                ],
            ),
        },
        "/v1/sensors": {
            "get": _op(
                "The organisation's sensor catalogue: each sensor's display name, unit, kind "
                "(how it aggregates), valid range and decimals; source 'default', "
                "'organisation' (its own entry) or 'unknown' (sent by a station, catalogued "
                "nowhere)",
                {"200": "org_id, sensors"},
            ),
        },
        "/v1/sensors/{name}": {
            "put": _op(
                "Create or replace the organisation's entry for a sensor (org-admin role)",
                {
                    "200": "the entry",
                    "403": "the user lacks the org-admin role",
                    "413": "a body over 4 KiB",
                    "422": "an invalid entry or name, each field named",
                },
                parameters=_SENSOR,
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": SensorSpec.model_json_schema()}},
                },
            ),
            "delete": _op(
                "Remove the organisation's own entry (the default applies again; org-admin)",
                {
                    "200": "removed",
                    "403": "the user lacks the org-admin role",
                    "404": "the organisation has no entry of its own for it",
                    "422": "an invalid name",
                },
                parameters=_SENSOR,
            ),
        },
        "/v1/stations/{station_id}/live": {
            "get": _op(
                "Server-Sent Events: one `snapshot` of the stored readings of the last "
                "?minutes (1-60, default 10), then a `readings` event per message on the "
                "readings topic, straight from Kafka. Data: "
                '{"station_id", "readings": [[unix seconds, {sensor: value}], ...]}; '
                "a reading may appear in both (merge by timestamp)",
                {
                    "200": "text/event-stream",
                    "403": "station not granted",
                    "422": "bad station id or minutes",
                    "429": "the user has SCADA_MAX_STREAMS_PER_USER (8) streams open",
                },
                parameters=[
                    {
                        "name": "station_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": IDENTIFIER_PATTERN},
                    },
                    {
                        "name": "minutes",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 60, "default": 10},
                    },
                ],
            ),
        },
        **_ALARMS,
    },
    "components": {
        "schemas": {"Error": _ERROR},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
