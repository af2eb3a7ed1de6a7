"""Every API handler runs as a user: the bearer token's, looked up in the database."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from base.http.errors import Unauthenticated
from base.http.requests import bearer_secret
from historical_service.state import ApiState
from historical_service.users import User, user_by_token

Handler = Callable[[Request, User, ApiState], Awaitable[Response]]


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` with the caller's user and the app state; a 401 without a valid token."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        state: ApiState = request.app.state.api
        secret = bearer_secret(request.headers.get("authorization"), "user token")
        user = await user_by_token(state.pool, secret)
        if user is None:
            raise Unauthenticated("the token is unknown")
        return await handler(request, user, state)

    return endpoint
