"""Alarms: the rules an organisation sets, and the transitions of the alarms they raise.

A rule watches a sensor of one station (or of every station of the organisation) and
raises an *alarm* per station, sensor and condition: one per limit it sets (HH, H, L,
LL are separate alarms, as ISA-18.2 counts them), one for its rate of change, one for
no data. Each alarm goes through the ISA-18.2 / IEC 62682 lifecycle::

    normal ──raised──▶ active, unacknowledged ──acknowledged──▶ active, acknowledged
      ▲                    │ cleared                               │ cleared
      │                    ▼                                       ▼
      └──acknowledged── returned, unacknowledged                 normal

and may be *shelved* for a bounded time (with a reason; unshelved by hand or when the
time is up) or its rule set *out of service*. Every transition is an
:class:`AlarmTransition` on ``scada.alarms.v1``, keyed by station, with a stable
``event_id``: the evaluator's from the readings, the API's from operators.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID, uuid5

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from schemas.base import Message
from schemas.readings import Identifier

RuleKind = Literal["limit", "rate", "no_data"]
Severity = Literal["low", "medium", "high", "critical"]
"""ISA-18.2 priorities, lowest first."""
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Condition = Literal["HH", "H", "L", "LL", "ROC", "NODATA"]
"""What an alarm watches: a limit, the rate of change, or silence."""
TransitionType = Literal["raised", "cleared", "acknowledged", "shelved", "unshelved"]

ALL_STATIONS = "*"
MAX_SHELVE_SECONDS = 7 * 86_400
"""A shelved alarm comes back within a week at most: shelving is bounded (ISA-18.2)."""

_Finite = Annotated[float, Field(ge=-1e300, le=1e300)]
_TEXT = r"^[^\x00-\x1f\x7f]*$"
"""Words for people: no control characters (PostgreSQL refuses NUL in text and jsonb)."""
_Reason = Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT)]


class AlarmRuleSpec(BaseModel):
    """A rule's body (``PUT /v1/alarm-rules/{rule_id}``, ``scada alarms rules set``).

    - ``limit``: any of ``hh`` ≥ ``h`` and ``l`` ≥ ``ll``; an alarm is active from the
      reading that reaches its limit (≥ H, ≤ L) and has held it ``on_delay_s``, until
      one is back inside by ``deadband`` (< H - deadband, > L + deadband).
    - ``rate``: active while the sensor changes faster than ``rate_per_minute`` (either
      way) over ``window_s``; clear once below it by ``deadband``.
    - ``no_data``: active once the station (``sensor`` null) or the sensor has sent
      nothing for ``silent_for_s``; clear at its next reading.
    """

    model_config = ConfigDict(extra="forbid")
    kind: RuleKind
    station: Identifier | Literal["*"] = ALL_STATIONS
    sensor: Identifier | None = None
    severity: Severity = "medium"
    description: Annotated[str, Field(max_length=200, pattern=_TEXT)] = ""
    hh: _Finite | None = None
    h: _Finite | None = None
    l: _Finite | None = None  # noqa: E741 (the ISA-18.2 name)
    ll: _Finite | None = None
    deadband: Annotated[float, Field(ge=0, le=1e300)] = 0.0
    on_delay_s: Annotated[int, Field(ge=0, le=86_400)] = 0
    rate_per_minute: Annotated[float, Field(gt=0, le=1e300)] | None = None
    window_s: Annotated[int, Field(ge=10, le=86_400)] = 300
    silent_for_s: Annotated[int, Field(ge=10, le=30 * 86_400)] | None = None
    notify_url: AnyHttpUrl | None = None
    out_of_service: bool = False
    """Out of service by design: evaluated, never raised (a sensor under maintenance)."""

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        limits = {"hh": self.hh, "h": self.h, "l": self.l, "ll": self.ll}
        set_limits = [name for name, v in limits.items() if v is not None]
        if self.kind == "limit":
            if not set_limits:
                raise ValueError("a limit rule sets at least one of hh, h, l, ll")
            order = [v for v in (self.hh, self.h, self.l, self.ll) if v is not None]
            if order != sorted(order, reverse=True):
                raise ValueError("limits must be ordered hh ≥ h ≥ l ≥ ll")
        elif set_limits:
            raise ValueError(f"{', '.join(set_limits)}: only a limit rule has limits")
        if self.kind == "rate" and self.rate_per_minute is None:
            raise ValueError("a rate rule sets rate_per_minute")
        if self.kind != "rate" and self.rate_per_minute is not None:
            raise ValueError("rate_per_minute: only a rate rule has one")
        if self.kind == "no_data" and self.silent_for_s is None:
            raise ValueError("a no_data rule sets silent_for_s")
        if self.kind != "no_data" and self.silent_for_s is not None:
            raise ValueError("silent_for_s: only a no_data rule has one")
        if self.kind != "no_data" and self.sensor is None:
            raise ValueError(f"a {self.kind} rule names its sensor")
        return self

    def conditions(self) -> list[tuple[Condition, float | None]]:
        """The alarms this rule raises per station and sensor, with their limits."""
        if self.kind == "rate":
            return [("ROC", self.rate_per_minute)]
        if self.kind == "no_data":
            return [("NODATA", float(self.silent_for_s or 0))]
        levels: list[tuple[Condition, float | None]] = [
            ("HH", self.hh),
            ("H", self.h),
            ("L", self.l),
            ("LL", self.ll),
        ]
        return [(c, v) for c, v in levels if v is not None]

    def severity_of(self, condition: Condition) -> Severity:
        """HH and LL are one priority above the rule's (at most critical)."""
        if condition not in ("HH", "LL"):
            return self.severity
        return SEVERITIES[min(SEVERITIES.index(self.severity) + 1, len(SEVERITIES) - 1)]


class AlarmRule(AlarmRuleSpec):
    """A rule as stored and as published on ``scada.alarm-rules.v1`` (key ``org/rule_id``;
    a deleted rule is a tombstone)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    org_id: Identifier
    rule_id: Identifier
    updated_at: datetime

    @property
    def key(self) -> str:
        return rule_key(self.org_id, self.rule_id)


def rule_key(org_id: str, rule_id: str) -> str:
    return f"{org_id}/{rule_id}"


def alarm_id(rule_id: str, condition: Condition, station_id: str, sensor: str | None) -> str:
    """One alarm's identity within its organisation: ``rule:condition/station/sensor``."""
    return f"{rule_id}:{condition}/{station_id}/{sensor or '*'}"


_EVENTS = UUID("6f1d7a52-1c1e-4c5e-9f5b-3f0d2b8f4a10")


def event_id(org_id: str, alarm: str, kind: TransitionType, at: datetime, salt: str = "") -> UUID:
    """The same transition always has the same id: a replayed reading (the evaluator
    restarted from its changelog) yields an event the alarm sink already has."""
    return uuid5(_EVENTS, f"{org_id}|{alarm}|{kind}|{at.isoformat()}|{salt}")


class AlarmTransition(Message):
    """One alarm's transition, on ``scada.alarms.v1`` (keyed by ``station_id``)."""

    schema_version: Literal[1] = 1
    event_id: UUID
    type: TransitionType
    org_id: Identifier
    alarm_id: Annotated[str, Field(max_length=256)]
    """``rule:condition/station/sensor``: 3 identifiers of up to 64 and a condition."""
    rule_id: Identifier
    station_id: Identifier
    sensor: Identifier | None
    condition: Condition
    severity: Severity
    at: datetime
    """The reading's time (raised, cleared) or the operator's (acknowledged, shelved)."""
    value: float | None = None
    """The value that raised or cleared it (seconds silent for NODATA, per minute for ROC)."""
    limit: float | None = None
    by: Annotated[str, Field(max_length=120)] | None = None
    """Who acknowledged, shelved or unshelved it (a user's name, cut to 120 characters;
    ``system`` for a shelving that ran out)."""
    reason: _Reason | None = None
    shelved_until: datetime | None = None
    emitted_at: datetime


class ShelveRequest(BaseModel):
    """``POST /v1/alarms/{alarm_id}/shelve``: for how long, and why."""

    model_config = ConfigDict(extra="forbid")
    minutes: Annotated[int, Field(ge=1, le=MAX_SHELVE_SECONDS // 60)]
    reason: _Reason


def finite(value: float | None) -> float | None:
    """``value``, or None if it is not a finite number (no NaN reaches a topic)."""
    return value if value is not None and math.isfinite(value) else None
