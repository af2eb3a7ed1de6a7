"""Reading what a request carries: a body within a limit, a bearer token."""

from __future__ import annotations

from starlette.requests import Request

from base.http.errors import PayloadTooLarge, Unauthenticated


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes (:class:`PayloadTooLarge` past it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def bearer_secret(authorization: str | None, what: str = "token") -> str:
    """The secret of ``Authorization: Bearer <secret>``; :class:`Unauthenticated` without one."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(f"send the {what} as 'Authorization: Bearer <{what}>'")
    return secret.strip()
