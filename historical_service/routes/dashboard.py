"""What the dashboard asks about its user and the stations it may watch."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import InvalidRequest, Unauthenticated
from base.http.requests import read_body
from base.http.responses import ORJSONResponse
from historical_service import stations
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import User, update_display, user_by_id
from schemas.users import DisplaySettings

MAX_SETTINGS_BODY = 1024


@authenticated
async def me(request: Request, user: User, state: ApiState) -> Response:
    return ORJSONResponse(_me(user))


@authenticated
async def update_me(request: Request, user: User, state: ApiState) -> Response:
    """The user's own display choices (language, time zone); answers with the user as now."""
    raw = await read_body(request, MAX_SETTINGS_BODY)
    try:
        settings = DisplaySettings.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequest.of("the settings are invalid", exc) from None
    await update_display(state.pool, user.user_id, settings)
    now = await user_by_id(state.pool, user.user_id)
    if now is None:  # revoked meanwhile
        raise Unauthenticated("the token is unknown")
    return ORJSONResponse(_me(now))


def _me(user: User) -> dict[str, object]:
    return {
        "user_id": str(user.user_id),
        "name": user.name,
        "org_id": user.org_id,
        "stations": "*" if user.all_stations else sorted(user.stations),
        "max_range_days": user.max_range.days,
        "roles": sorted(user.roles),
        "time_zone": user.time_zone,
        "language": user.language,
    }


@authenticated
async def list_stations(request: Request, user: User, state: ApiState) -> Response:
    ids = await stations.station_ids(state.pool, user)
    now = datetime.now(UTC)
    found = await stations.statuses(state.pool, ids)
    return ORJSONResponse({"stations": [s.view(now) for s in found], "as_of": now.isoformat()})
