"""The operations view: the pipeline's health for operators without Grafana."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import Forbidden, InvalidRequest
from base.http.responses import ORJSONResponse
from historical_service.operations import operations_view
from historical_service.routes.authentication import authenticated
from historical_service.state import ApiState
from historical_service.users import OPERATOR, User

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 5, 1440, 60


@authenticated
async def operations(request: Request, user: User, state: ApiState) -> Response:
    if OPERATOR not in user.roles:
        raise Forbidden(
            f"the operations view needs the {OPERATOR!r} role "
            f"(`scada users create --role {OPERATOR}`)"
        )
    raw = request.query_params.get("minutes", str(DEFAULT_MINUTES))
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not MIN_MINUTES <= int(raw) <= MAX_MINUTES:
        raise InvalidRequest(f"minutes must be a whole number from {MIN_MINUTES} to {MAX_MINUTES}")
    view = await operations_view(state.settings.prometheus_url, int(raw))
    return ORJSONResponse(view)
