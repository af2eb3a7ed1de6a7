"""Which failures mean "not now, try again" rather than "this cannot be done".

Every long-running loop sorts an exception with these: a transient one is
waited out with backoff and nothing is given up; anything else fails the one
record or job that met it, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from aiokafka.errors import KafkaError

from base.errors import ScadaError

T = TypeVar("T")

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted: the server is away
    socket.gaierror,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # a connection that died under us
    # "the underlying connection is closed" (a transaction whose server was killed) is
    # an InterfaceError; so are some misuses, but dead-lettering good readings because
    # the database died mid-transaction would be far worse than retrying a bug.
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # Lock races between concurrent transactions (a rebalance can briefly put one
    # station's rows in two of them): the same statement succeeds when retried.
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)
"""Not every ``OSError``: a results directory that cannot be written is not an outage,
and retrying it would hold a worker forever."""

_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


def database_unavailable(exc: BaseException) -> bool:
    # A bare OSError: "no route to host" and the like, or asyncio's "Multiple exceptions"
    # (every address of a host name refused; errno None). File errors are subclasses.
    return isinstance(exc, DATABASE_UNAVAILABLE) or (
        type(exc) is OSError and (exc.errno is None or exc.errno in _NETWORK_ERRNOS)
    )


def kafka_unavailable(exc: BaseException) -> bool:
    """A Kafka error the client itself calls retriable, or a wait that timed out."""
    return isinstance(exc, TimeoutError) or (
        isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
    )


def unavailable(exc: BaseException) -> bool:
    """The database or Kafka is away (or our own ``retriable`` errors say so)."""
    return (
        database_unavailable(exc)
        or kafka_unavailable(exc)
        or (isinstance(exc, ScadaError) and exc.retriable)
    )


class BoundedCalls:
    """Calls to a server that may hang (SIGSTOPped, a dead network): never waited on long.

    ``await calls.run(make, timeout)`` waits at most ``timeout`` seconds and raises
    :class:`TimeoutError` after that, leaving the call to finish behind: cancelling an
    asyncpg call makes asyncpg talk to the server again (a cancel request, a reset) and
    that waits as long as the server does. At most ``limit`` calls are left behind at
    once; past that a call fails at once, so a long outage cannot pile them up.
    """

    def __init__(self, limit: int = 8) -> None:
        self._limit = limit
        self._behind: set[asyncio.Future[Any]] = set()

    async def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        if len(self._behind) >= self._limit:
            raise TimeoutError(f"{len(self._behind)} earlier calls have not come back")
        task = asyncio.ensure_future(make())
        task.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            if not task.done():
                self._behind.add(task)  # left behind: counted until it comes back
            raise

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._behind.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a late failure is not an unhandled one


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling again if it shrugged it off.

    On Python 3.11, ``asyncio.wait_for`` swallows a cancellation that arrives as its
    inner call completes (gh-86296, fixed in 3.12), and a loop that awaits it then runs
    on: a single ``cancel()`` left the live feed running and the API's shutdown waiting
    for it forever (a fresh-clone CI run).
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if not task.cancelled():
        task.exception()  # retrieved: what it ended with was logged where it happened
