"""Which failures mean "not now, try again" rather than "this cannot be done".

Every long-running loop sorts an exception with these: a transient one is
waited out with backoff and nothing is given up; anything else fails the one
record or job that met it, and the loop goes on.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError

from scada.errors import ScadaError

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable: the server or the network is away
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # a connection that died under us
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # Lock races between concurrent transactions (a rebalance can briefly put one
    # station's rows in two of them): the same statement succeeds when retried.
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


def database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


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
