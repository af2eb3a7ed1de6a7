"""The organisation's sensor catalogue: everyone reads it, an org-admin edits it."""

from __future__ import annotations

import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import Conflict, Forbidden, InvalidRequest, NotFound
from base.http.requests import read_body
from base.http.responses import ORJSONResponse
from base.storage.catalogue import catalogue_of, remove_sensor, set_sensor
from historical_service import stations
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import ORG_ADMIN, User
from schemas.readings import IDENTIFIER_PATTERN
from schemas.sensors import SensorSpec

MAX_SENSOR_BODY = 4096

_NAME = IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")


@authenticated
async def list_sensors(request: Request, user: User, state: ApiState) -> Response:
    ids = await stations.station_ids(state.pool, user)
    seen = {s for status in await stations.statuses(state.pool, ids) for s in status.sensors}
    found = await catalogue_of(state.pool, user.org_id, seen)
    return ORJSONResponse(
        {"org_id": user.org_id, "sensors": [s.model_dump(mode="json") for s in found]}
    )


@authenticated
async def put_sensor(request: Request, user: User, state: ApiState) -> Response:
    name = _admin_and_name(request, user)
    raw = await read_body(request, MAX_SENSOR_BODY)
    try:
        spec = SensorSpec.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequest.of(f"the entry for {name} is invalid", exc) from None
    try:
        await set_sensor(state.pool, user.org_id, name, spec)
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    found = await catalogue_of(state.pool, user.org_id)
    entry = next(s for s in found if s.name == name)
    return ORJSONResponse(entry.model_dump(mode="json"))


@authenticated
async def delete_sensor(request: Request, user: User, state: ApiState) -> Response:
    name = _admin_and_name(request, user)
    try:
        removed = await remove_sensor(state.pool, user.org_id, name)
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    if not removed:
        raise NotFound(f"organisation {user.org_id} has no entry of its own for {name}")
    return ORJSONResponse({"name": name, "removed": True})


def _admin_and_name(request: Request, user: User) -> str:
    if ORG_ADMIN not in user.roles:
        raise Forbidden(
            f"editing the catalogue needs the {ORG_ADMIN!r} role "
            f"(`scada users create --role {ORG_ADMIN}`)"
        )
    name = str(request.path_params["name"])
    if not re.fullmatch(_NAME, name):
        raise InvalidRequest("a sensor name is 1-64 letters, digits, '_', '.' or '-'")
    return name
