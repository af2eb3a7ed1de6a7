"""Alarm rules (an org-admin writes them, everyone of the organisation reads them) and
the alarms they raise: the active ones and the audit trail, acknowledge, shelve and
unshelve — each checked against the user's organisation and granted stations."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from base.alarm_rules import RuleNotPublished, publish_all, remove_rule, save_rule
from base.http.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    KafkaUnavailable,
    NotFound,
)
from base.http.requests import read_body
from base.http.responses import ORJSONResponse
from base.storage.alarms import (
    alarm_by_key,
    alarm_view,
    alarms_of,
    event_view,
    history_of,
    rules_of,
)
from historical_service import stations
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import ORG_ADMIN, User
from schemas.alarms import (
    ALL_STATIONS,
    AlarmRule,
    AlarmRuleSpec,
    AlarmTransition,
    ShelveRequest,
)
from schemas.readings import EARLIEST_TS, IDENTIFIER_PATTERN, LATEST_TS

MAX_RULE_BODY = 4096
MAX_ACTION_BODY = 1024
MAX_HISTORY = 1000
_NAME = IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")


# -- rules ------------------------------------------------------------------------


@authenticated
async def list_rules(request: Request, user: User, state: ApiState) -> Response:
    found = await rules_of(state.pool, user.org_id)
    return ORJSONResponse({"org_id": user.org_id, "rules": [_rule_view(r) for r in found]})


@authenticated
async def put_alarm_rule(request: Request, user: User, state: ApiState) -> Response:
    rule_id = _admin_and_rule_id(request, user)
    raw = await read_body(request, MAX_RULE_BODY)
    try:
        spec = AlarmRuleSpec.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequest.of(f"the rule {rule_id} is invalid", exc) from None
    if spec.station != ALL_STATIONS:
        owner = await state.pool.fetchval(
            "SELECT org_id FROM ingest.stations WHERE station_id = $1", spec.station
        )
        if owner != user.org_id:
            raise InvalidRequest(
                f"station {spec.station} is not one of organisation {user.org_id}'s"
            )
    try:
        rule = await save_rule(
            state.pool, state.producer, state.topics.alarm_rules, user.org_id, rule_id, spec
        )
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    except RuleNotPublished:
        raise KafkaUnavailable("could not publish the rule to the evaluators; retry") from None
    return ORJSONResponse(_rule_view(rule))


@authenticated
async def delete_alarm_rule(request: Request, user: User, state: ApiState) -> Response:
    rule_id = _admin_and_rule_id(request, user)
    try:
        removed = await remove_rule(
            state.pool, state.producer, state.topics.alarm_rules, user.org_id, rule_id
        )
    except RuleNotPublished:
        raise KafkaUnavailable("could not publish the removal to the evaluators; retry") from None
    if not removed:
        raise NotFound(f"organisation {user.org_id} has no alarm rule {rule_id}")
    return ORJSONResponse({"rule_id": rule_id, "removed": True})


async def publish_all_rules(state: ApiState) -> int:
    """Every rule in the database onto the compacted topic (at the API's start)."""
    return await publish_all(state.pool, state.producer, state.topics.alarm_rules)


def _admin_and_rule_id(request: Request, user: User) -> str:
    if ORG_ADMIN not in user.roles:
        raise Forbidden(
            f"alarm rules are managed with the {ORG_ADMIN!r} role "
            f"(`scada users create --role {ORG_ADMIN}`)"
        )
    rule_id = str(request.path_params["rule_id"])
    if not re.fullmatch(_NAME, rule_id):
        raise InvalidRequest("a rule id is 1-64 letters, digits, '_', '.' or '-'")
    return rule_id


def _rule_view(rule: AlarmRule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude={"org_id"})


# -- alarms -----------------------------------------------------------------------


@authenticated
async def list_alarms(request: Request, user: User, state: ApiState) -> Response:
    """The user's stations' alarms not in the normal state (``?all=true``: every one)."""
    everything = request.query_params.get("all", "false").lower() in ("1", "true", "yes")
    granted = await stations.station_ids(state.pool, user)
    rows = await alarms_of(state.pool, user.org_id, granted, everything=everything)
    now = datetime.now(UTC)
    return ORJSONResponse({"alarms": [alarm_view(r, now) for r in rows], "as_of": now})


@authenticated
async def alarm_history(request: Request, user: User, state: ApiState) -> Response:
    """The audit trail: every transition of the user's stations (``?station=`` one of
    them) from ``?start`` (default a day ago) to ``?end`` (default now), newest first."""
    params = request.query_params
    now = datetime.now(UTC)
    start = _instant(params.get("start"), "start", now - timedelta(days=1))
    end = _instant(params.get("end"), "end", now + timedelta(seconds=1))
    if end <= start:
        raise InvalidRequest("end must be after start")
    try:
        limit = min(MAX_HISTORY, max(1, int(params.get("limit", "200"))))
    except ValueError:
        raise InvalidRequest("limit must be a whole number") from None
    granted = await stations.station_ids(state.pool, user)
    station = params.get("station")
    if station is not None:
        if station not in granted:
            raise Forbidden(f"station {station} is not granted to you")
        granted = [station]
    rows = await history_of(state.pool, user.org_id, granted, start, end, limit)
    return ORJSONResponse({"events": [event_view(r) for r in rows], "start": start, "end": end})


@authenticated
async def acknowledge(request: Request, user: User, state: ApiState) -> Response:
    alarm = await _granted_alarm(request, user, state)
    if alarm["acknowledged"]:
        raise AlreadyAcknowledged(f"alarm {alarm['alarm_id']} is already acknowledged")
    return await _act(state, alarm, "acknowledged", user)


@authenticated
async def shelve(request: Request, user: User, state: ApiState) -> Response:
    alarm = await _granted_alarm(request, user, state)
    raw = await read_body(request, MAX_ACTION_BODY)
    try:
        body = ShelveRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequest.of("the shelving is invalid", exc) from None
    now = datetime.now(UTC)
    until = now + timedelta(minutes=body.minutes)
    return await _act(state, alarm, "shelved", user, reason=body.reason, shelved_until=until)


@authenticated
async def unshelve(request: Request, user: User, state: ApiState) -> Response:
    alarm = await _granted_alarm(request, user, state)
    now = datetime.now(UTC)
    if not alarm["shelved_until"] or alarm["shelved_until"] <= now:
        raise NotShelved(f"alarm {alarm['alarm_id']} is not shelved")
    return await _act(state, alarm, "unshelved", user)


class AlreadyAcknowledged(Conflict):
    code = "already_acknowledged"


class NotShelved(Conflict):
    code = "not_shelved"


async def _granted_alarm(request: Request, user: User, state: ApiState) -> dict[str, Any]:
    """The alarm of the path's key, if it is the user's organisation's and its station is
    granted to them; else 404 (an alarm of a station not granted does not exist for them)."""
    try:
        key = UUID(str(request.path_params["key"]))
    except ValueError:
        raise InvalidRequest("an alarm key is a UUID (GET /v1/alarms lists them)") from None
    row = await alarm_by_key(state.pool, user.org_id, key)
    if row is None or row["station_id"] not in await stations.station_ids(state.pool, user):
        raise NotFound(f"no alarm {key}")
    return dict(row)


async def _act(
    state: ApiState,
    alarm: dict[str, Any],
    kind: str,
    user: User,
    *,
    reason: str | None = None,
    shelved_until: datetime | None = None,
) -> Response:
    """Publish an operator's transition (the alarm sink applies it); 202 once Kafka has it."""
    now = datetime.now(UTC)
    transition = AlarmTransition.model_validate(
        {
            "event_id": uuid4(),
            "type": kind,
            "org_id": user.org_id,
            "alarm_id": alarm["alarm_id"],
            "rule_id": alarm["rule_id"],
            "station_id": alarm["station_id"],
            "sensor": alarm["sensor"],
            "condition": alarm["condition"],
            "severity": alarm["severity"],
            "at": now,
            "by": user.name[:120],
            "reason": reason,
            "shelved_until": shelved_until,
            "emitted_at": now,
        }
    )
    topic = state.topics.alarms
    try:
        async with asyncio.timeout(5):
            await state.producer.send_and_wait(
                topic.name, topic.serialize(transition), key=transition.station_id.encode()
            )
    except (TimeoutError, KafkaError):
        raise KafkaUnavailable(f"could not record the {kind} transition; retry") from None
    return ORJSONResponse(
        {
            "event_id": str(transition.event_id),
            "type": kind,
            "key": str(alarm["key"]),
            "alarm_id": alarm["alarm_id"],
            "shelved_until": shelved_until,
        },
        202,
    )


def _instant(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name}: not an RFC 3339 instant") from None
    if parsed.tzinfo is None:
        raise InvalidRequest(f"{name}: give an offset (Z or +07:00)")
    if not EARLIEST_TS <= parsed <= LATEST_TS:
        raise InvalidRequest(f"{name}: from {EARLIEST_TS.isoformat()} to {LATEST_TS.isoformat()}")
    return parsed
