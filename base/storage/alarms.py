"""The alarm tables (``alarms.rules``, ``alarms.events``, ``alarms.current``): the one
owner of them. Rules are the organisation's (the API writes them, the evaluator reads
them from the rules topic); events and current states are the alarm sink's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import asyncpg
import orjson

from base.alarm_lifecycle import AlarmState, apply
from base.storage.connection import Connection
from schemas.alarms import AlarmRule, AlarmRuleSpec, AlarmTransition

MAX_RULES_PER_ORG = 500
_KEYS = UUID("0b8f3a57-52a4-4d61-a7c2-6f1e0c1d9e11")


def alarm_key(org_id: str, alarm_id: str) -> UUID:
    """The short id an alarm has in URLs (its id holds ``/`` and ``:``)."""
    return uuid5(_KEYS, f"{org_id}|{alarm_id}")


def _rule(row: asyncpg.Record) -> AlarmRule:
    spec = orjson.loads(row["spec"])
    return AlarmRule(
        org_id=row["org_id"], rule_id=row["rule_id"], updated_at=row["updated_at"], **spec
    )


async def put_rule(
    conn: Connection | asyncpg.Pool, org_id: str, rule_id: str, spec: AlarmRuleSpec
) -> AlarmRule:
    """Create or replace the rule; :class:`ValueError` past :data:`MAX_RULES_PER_ORG`."""
    body = spec.model_dump_json(exclude_defaults=False)
    row = await conn.fetchrow(
        "WITH counted AS (SELECT count(*) AS n FROM alarms.rules WHERE org_id = $1 "
        "  AND rule_id <> $2) "
        "INSERT INTO alarms.rules (org_id, rule_id, spec, updated_at) "
        "SELECT $1, $2, $3::jsonb, now() FROM counted WHERE n < $4 "
        "ON CONFLICT (org_id, rule_id) DO UPDATE SET spec = excluded.spec, updated_at = now() "
        "RETURNING org_id, rule_id, spec::text AS spec, updated_at",
        org_id,
        rule_id,
        body,
        MAX_RULES_PER_ORG,
    )
    if row is None:
        raise ValueError(f"organisation {org_id} has {MAX_RULES_PER_ORG} rules, the most it may")
    return _rule(row)


async def delete_rule(conn: Connection | asyncpg.Pool, org_id: str, rule_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM alarms.rules WHERE org_id = $1 AND rule_id = $2", org_id, rule_id
    )
    return bool(status == "DELETE 1")


async def rules_of(conn: Connection | asyncpg.Pool, org_id: str | None = None) -> list[AlarmRule]:
    """``org_id``'s rules (every organisation's if None), by id."""
    rows = await conn.fetch(
        "SELECT org_id, rule_id, spec::text AS spec, updated_at FROM alarms.rules "
        "WHERE $1::text IS NULL OR org_id = $1 ORDER BY org_id, rule_id",
        org_id,
    )
    return [_rule(r) for r in rows]


_STATE_COLUMNS = (
    'active, acknowledged, raised_at, cleared_at, value, "limit", acknowledged_by, '
    "acknowledged_at, shelved_until, shelved_by, shelve_reason"
)


def _state(row: asyncpg.Record | None) -> AlarmState | None:
    if row is None:
        return None
    return AlarmState(**{k: row[k] for k in AlarmState.__dataclass_fields__})


async def store_transitions(conn: Connection, events: Iterable[AlarmTransition]) -> list[bool]:
    """Store each event once (its ``event_id``) and fold it into its alarm's state, in
    the caller's transaction; per event, whether it was new (not stored before).

    An event already stored (a redelivered batch) changes nothing; a new one that the
    lifecycle says changes nothing (a second ``raised``) is stored with ``applied`` false.
    """
    new: list[bool] = []
    for event in events:
        row = await conn.fetchrow(
            f"SELECT {_STATE_COLUMNS} FROM alarms.current "
            "WHERE org_id = $1 AND alarm_id = $2 FOR UPDATE",
            event.org_id,
            event.alarm_id,
        )
        after = apply(_state(row), event)
        inserted = await conn.fetchval(
            "INSERT INTO alarms.events (at, event_id, type, org_id, alarm_id, rule_id, "
            'station_id, sensor, condition, severity, value, "limit", by, reason, '
            "shelved_until, emitted_at, applied) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
            "$9, $10, $11, $12, $13, $14, $15, $16, $17) "
            "ON CONFLICT (event_id, at) DO NOTHING RETURNING true",
            event.at,
            event.event_id,
            event.type,
            event.org_id,
            event.alarm_id,
            event.rule_id,
            event.station_id,
            event.sensor,
            event.condition,
            event.severity,
            event.value,
            event.limit,
            event.by,
            event.reason,
            event.shelved_until,
            event.emitted_at,
            after is not None,
        )
        new.append(bool(inserted))
        if inserted and after is not None:
            await _write_state(conn, event, after)
    return new


async def _write_state(conn: Connection, event: AlarmTransition, state: AlarmState) -> None:
    await conn.execute(
        "INSERT INTO alarms.current (org_id, alarm_id, key, rule_id, station_id, sensor, "
        f"condition, severity, updated_at, {_STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, now(), $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) "
        "ON CONFLICT (org_id, alarm_id) DO UPDATE SET severity = excluded.severity, "
        "updated_at = now(), active = excluded.active, acknowledged = excluded.acknowledged, "
        "raised_at = excluded.raised_at, cleared_at = excluded.cleared_at, "
        'value = excluded.value, "limit" = excluded."limit", '
        "acknowledged_by = excluded.acknowledged_by, acknowledged_at = excluded.acknowledged_at, "
        "shelved_until = excluded.shelved_until, shelved_by = excluded.shelved_by, "
        "shelve_reason = excluded.shelve_reason",
        event.org_id,
        event.alarm_id,
        alarm_key(event.org_id, event.alarm_id),
        event.rule_id,
        event.station_id,
        event.sensor,
        event.condition,
        event.severity,
        state.active,
        state.acknowledged,
        state.raised_at,
        state.cleared_at,
        state.value,
        state.limit,
        state.acknowledged_by,
        state.acknowledged_at,
        state.shelved_until,
        state.shelved_by,
        state.shelve_reason,
    )


_VIEW = (
    "key, alarm_id, rule_id, station_id, sensor, condition, severity, state, active, "
    'acknowledged, raised_at, cleared_at, value, "limit", acknowledged_by, acknowledged_at, '
    "shelved_until, shelved_by, shelve_reason, updated_at"
)


def alarm_view(row: asyncpg.Record, now: datetime | None = None) -> dict[str, Any]:
    """An alarm as the API shows it (``shelved`` is true while its shelving lasts)."""
    view = dict(row)
    view["key"] = str(row["key"])  # asyncpg's UUID is not the standard library's
    now = now or datetime.now(UTC)
    view["shelved"] = bool(row["shelved_until"] and row["shelved_until"] > now)
    return view


async def alarms_of(
    conn: Connection | asyncpg.Pool, org_id: str, stations: list[str], *, everything: bool = False
) -> list[asyncpg.Record]:
    """The alarms of ``stations`` of ``org_id`` not in the normal state (all with
    ``everything``), worst first: unacknowledged, then by severity, newest."""
    return list(
        await conn.fetch(
            f"SELECT {_VIEW} FROM alarms.current WHERE org_id = $1 "
            "AND station_id = ANY($2::text[]) AND ($3 OR state <> 'normal') "
            "ORDER BY acknowledged, array_position(ARRAY['critical','high','medium','low'], "
            "severity), raised_at DESC NULLS LAST, alarm_id",
            org_id,
            stations,
            everything,
        )
    )


async def alarm_by_key(
    conn: Connection | asyncpg.Pool, org_id: str, key: UUID
) -> asyncpg.Record | None:
    row = await conn.fetchrow(
        f"SELECT {_VIEW} FROM alarms.current WHERE org_id = $1 AND key = $2", org_id, key
    )
    return row


async def history_of(
    conn: Connection | asyncpg.Pool,
    org_id: str,
    stations: list[str],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[asyncpg.Record]:
    """The audit trail of ``stations``: every transition in ``[start, end)``, newest first."""
    return list(
        await conn.fetch(
            "SELECT at, event_id, type, alarm_id, rule_id, station_id, sensor, condition, "
            'severity, value, "limit", by, reason, shelved_until, emitted_at, stored_at, '
            "applied FROM alarms.events WHERE org_id = $1 AND station_id = ANY($2::text[]) "
            "AND at >= $3 AND at < $4 ORDER BY at DESC, event_id LIMIT $5",
            org_id,
            stations,
            start,
            end,
            limit,
        )
    )


def event_view(row: asyncpg.Record) -> dict[str, Any]:
    """A stored transition as the API shows it."""
    view = dict(row)
    view["event_id"] = str(row["event_id"])
    return view


async def shelves_expired(conn: Connection | asyncpg.Pool, now: datetime) -> list[asyncpg.Record]:
    """Alarms whose shelving has run out (the alarm sink unshelves them)."""
    return list(
        await conn.fetch(
            "SELECT org_id, alarm_id, rule_id, station_id, sensor, condition, severity, "
            "shelved_until FROM alarms.current WHERE shelved_until <= $1 LIMIT 1000",
            now,
        )
    )
