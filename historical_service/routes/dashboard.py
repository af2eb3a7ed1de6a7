"""What the dashboard asks about its user and the stations it may watch."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from base.http.responses import ORJSONResponse
from historical_service import stations
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import User


@authenticated
async def me(request: Request, user: User, state: ApiState) -> Response:
    return ORJSONResponse(
        {
            "user_id": str(user.user_id),
            "name": user.name,
            "org_id": user.org_id,
            "stations": "*" if user.all_stations else sorted(user.stations),
            "max_range_days": user.max_range.days,
            "roles": sorted(user.roles),
            "time_zone": user.time_zone,
        }
    )


@authenticated
async def list_stations(request: Request, user: User, state: ApiState) -> Response:
    ids = await stations.station_ids(state.pool, user)
    now = datetime.now(UTC)
    found = await stations.statuses(state.pool, ids)
    return ORJSONResponse({"stations": [s.view(now) for s in found], "as_of": now.isoformat()})
