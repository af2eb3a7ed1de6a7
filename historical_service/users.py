"""Dashboard users: bearer tokens (stored hashed), station grants and a maximum range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from base.credentials import USER_TOKEN_PREFIX, hash_secret, new_secret
from base.storage.stations import register_stations
from schemas.users import DisplaySettings, check_language, check_time_zone

OPERATOR = "operator"
"""Sees the operations view (``GET /v1/operations``): the pipeline's health, no station data."""
ORG_ADMIN = "org-admin"
"""Manages the organisation's sensor catalogue (``PUT /v1/sensors/{name}``)."""
ROLES = (OPERATOR, ORG_ADMIN)
"""Every role a user can hold (``historical.users.roles`` refuses others)."""


@dataclass(frozen=True)
class User:
    user_id: UUID
    name: str
    org_id: str
    all_stations: bool
    stations: frozenset[str]
    max_range: timedelta
    roles: frozenset[str] = frozenset()
    time_zone: str = "UTC"
    """Where the dashboard shows this user's times: theirs, else the org's, else UTC."""
    language: str | None = None
    """The dashboard's language: theirs, else the org's, else (None) the browser's."""


async def create_user(
    conn: asyncpg.Connection,
    *,
    name: str,
    org_id: str,
    stations: list[str],
    max_range_days: int = 400,
    roles: tuple[str, ...] = (),
    time_zone: str | None = None,
    language: str | None = None,
) -> tuple[UUID, str]:
    """Create a user of ``stations`` (``["*"]``: all the org's); return id and bearer token.

    Listed stations are registered to the org if nobody owns them yet; a station of
    another organisation is refused (:class:`ValueError` naming it), as is a role
    not in :data:`ROLES`.
    """
    if not org_id:
        raise ValueError("a user belongs to an organisation: name one")
    if time_zone is not None:
        check_time_zone(time_zone)
    if language is not None:
        check_language(language)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown roles {unknown}: a user's roles are among {list(ROLES)}")
    secret = new_secret(USER_TOKEN_PREFIX)
    user_id = uuid4()
    everything = stations == ["*"]
    listed = [] if everything else sorted(set(stations))
    async with conn.transaction():
        owners = await register_stations(conn, org_id, listed)
        foreign = sorted(s for s, owner in owners.items() if owner != org_id)
        if foreign:
            raise ValueError(f"stations {foreign} belong to another organisation")
        await conn.execute(
            "INSERT INTO historical.users (user_id, name, org_id, all_stations, stations, "
            "max_range_days, token_sha256, roles, time_zone, language) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            user_id,
            name,
            org_id,
            everything,
            listed,
            max_range_days,
            hash_secret(secret),
            sorted(set(roles)),
            time_zone,
            language,
        )
    return user_id, secret


async def grant_role(conn: asyncpg.Connection, secret: str, role: str) -> None:
    """Give the user of token ``secret`` ``role`` (nothing if they have it)."""
    await conn.execute(
        "UPDATE historical.users SET roles = array_append(roles, $2) "
        "WHERE token_sha256 = $1 AND NOT $2 = ANY(roles)",
        hash_secret(secret),
        role,
    )


async def set_time_zone(
    conn: asyncpg.Connection, *, user: str | None = None, org: str | None = None, time_zone: str
) -> bool:
    """Set a user's display time zone, or an organisation's default; False if no such user."""
    check_time_zone(time_zone)
    if user is not None:
        status = await conn.execute(
            "UPDATE historical.users SET time_zone = $2 WHERE name = $1 AND revoked_at IS NULL",
            user,
            time_zone,
        )
        return bool(status == "UPDATE 1")
    if not org:
        raise ValueError("name a user or an organisation")
    await conn.execute(
        "INSERT INTO historical.org_settings (org_id, time_zone) VALUES ($1, $2) "
        "ON CONFLICT (org_id) DO UPDATE SET time_zone = excluded.time_zone",
        org,
        time_zone,
    )
    return True


async def set_language(
    conn: asyncpg.Connection, *, user: str | None = None, org: str | None = None, language: str
) -> bool:
    """Set a user's dashboard language, or an organisation's default; False if no such user."""
    check_language(language)
    if user is not None:
        status = await conn.execute(
            "UPDATE historical.users SET language = $2 WHERE name = $1 AND revoked_at IS NULL",
            user,
            language,
        )
        return bool(status == "UPDATE 1")
    if not org:
        raise ValueError("name a user or an organisation")
    await conn.execute(
        "INSERT INTO historical.org_settings (org_id, language) VALUES ($1, $2) "
        "ON CONFLICT (org_id) DO UPDATE SET language = excluded.language",
        org,
        language,
    )
    return True


async def update_display(pool: asyncpg.Pool, user_id: UUID, settings: DisplaySettings) -> None:
    """The user's own choices of ``settings``' fields set (``PATCH /v1/me``); None clears one.

    Only fields the request named change: the column list is chosen from fixed names,
    the values are parameters.
    """
    sent = sorted(settings.model_fields_set & {"language", "time_zone"})
    if not sent:
        return
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(sent, start=2))
    await pool.execute(
        f"UPDATE historical.users SET {assignments} WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
        *(getattr(settings, name) for name in sent),
    )


async def revoke_user(conn: asyncpg.Connection, name: str) -> bool:
    """Revoke the user called ``name``; False if there is no such (unrevoked) user."""
    status = await conn.execute(
        "UPDATE historical.users SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name,
    )
    return bool(status == "UPDATE 1")


async def is_revoked(pool: asyncpg.Pool, user_id: UUID) -> bool:
    """True if the user is revoked or gone (their open streams are closed)."""
    return not await pool.fetchval(
        "SELECT true FROM historical.users WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )


def _user(row: asyncpg.Record) -> User:
    return User(
        row["user_id"],
        row["name"],
        row["org_id"],
        row["all_stations"],
        frozenset(row["stations"]),
        timedelta(days=row["max_range_days"]),
        frozenset(row["roles"]),
        row["time_zone"] or "UTC",
        row["language"],
    )


_COLUMNS = (
    "u.user_id, u.name, u.org_id, u.all_stations, u.stations, u.max_range_days, u.roles, "
    "coalesce(u.time_zone, o.time_zone) AS time_zone, "
    "coalesce(u.language, o.language) AS language"
)
_FROM = "historical.users u LEFT JOIN historical.org_settings o USING (org_id)"


async def user_by_token(pool: asyncpg.Pool, secret: str) -> User | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE u.token_sha256 = $1 AND u.revoked_at IS NULL",
        hash_secret(secret),
    )
    return _user(row) if row else None


async def user_by_id(pool: asyncpg.Pool, user_id: UUID) -> User | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE u.user_id = $1 AND u.revoked_at IS NULL",
        user_id,
    )
    return _user(row) if row else None


async def org_of(pool: asyncpg.Pool, user_id: UUID) -> str:
    """The user's organisation, revoked or not (users are revoked, never deleted)."""
    org = await pool.fetchval("SELECT org_id FROM historical.users WHERE user_id = $1", user_id)
    if org is None:
        raise LookupError(f"no user {user_id}")
    return str(org)


async def denied_stations(pool: asyncpg.Pool, user: User, stations: list[str]) -> list[str]:
    """The stations of ``stations`` that ``user`` may not read, sorted.

    The rule: a user reads a station only if it is registered to their organisation
    (the ``ingest.stations`` row decides, never a message) and, unless granted ``*``,
    it is one of their listed stations.
    """
    wanted = set(stations) if user.all_stations else set(stations) & user.stations
    owned = await pool.fetch(
        "SELECT station_id FROM ingest.stations WHERE org_id = $1 AND station_id = ANY($2::text[])",
        user.org_id,
        sorted(wanted),
    )
    return sorted(set(stations) - {r["station_id"] for r in owned})


async def names_of(pool: asyncpg.Pool, user_ids: list[UUID]) -> dict[UUID, str]:
    """The names of ``user_ids``, revoked or not (``scada jobs list`` shows whose a job is)."""
    rows = await pool.fetch(
        "SELECT user_id, name FROM historical.users WHERE user_id = ANY($1::uuid[])",
        sorted(set(user_ids)),
    )
    return {UUID(str(r["user_id"])): str(r["name"]) for r in rows}
