"""What the rules say about a station's readings: pure, no Kafka, no clock but the one
given (unit-tested in tests/unit/test_alarm_evaluation.py).

A station's state is one JSON-able dict (a faust table's value, keyed by station id):

- ``org``: the station's organisation, from its last message;
- ``seen``: the newest reading time evaluated, per sensor and ``*`` for any (unix s);
- ``alarms``: per alarm id that is active (``active``, and ``at``: when it was raised)
  or waiting out its on-delay (``pending``: since when); a normal one has no entry;
- ``windows``: per rate rule and sensor (``rule/sensor``), recent ``[ts, value]``
  points, at most about :data:`MAX_WINDOW_POINTS` spread over the rule's window.

A clear is never earlier than the raise it ends (a buffered batch may hold readings
from inside a silence, a rule may be removed before a reading from the future).

Rules run on the readings' own timestamps. A reading older than ``live_window_s``
before now (a backfill, a year of history posted at start-up) or not newer than the
station's newest one for that sensor (a replay, a late arrival) changes nothing: it is
history, stored by the sink and drawn by the charts, never a "live" alarm for the past.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.alarms import (
    ALL_STATIONS,
    AlarmRule,
    AlarmTransition,
    Condition,
    TransitionType,
    alarm_id,
    event_id,
    finite,
)
from schemas.readings import StationReadingsAccepted

State = dict[str, Any]
LIVE_WINDOW_S = 600.0
"""Readings older than this (before now) are history to the evaluator."""
MAX_WINDOW_POINTS = 120
"""A rate window keeps about this many points, spread over the window (a station's state
stays small: it is one changelog record)."""
ANY_SENSOR = "*"


def new_state(org_id: str) -> State:
    return {"org": org_id, "seen": {}, "alarms": {}, "windows": {}}


@dataclass
class Rules:
    """The rules in force, indexed by organisation (built from the rules topic)."""

    by_key: dict[str, AlarmRule] = field(default_factory=dict)
    _by_org: dict[str, list[AlarmRule]] | None = None

    def put(self, key: str, rule: AlarmRule | None) -> None:
        if rule is None:
            self.by_key.pop(key, None)
        else:
            self.by_key[key] = rule
        self._by_org = None

    def for_station(self, org_id: str, station_id: str) -> list[AlarmRule]:
        if self._by_org is None:
            self._by_org = {}
            for rule in sorted(self.by_key.values(), key=lambda r: r.rule_id):
                self._by_org.setdefault(rule.org_id, []).append(rule)
        return [r for r in self._by_org.get(org_id, []) if r.station in (ALL_STATIONS, station_id)]


def _ts(value: datetime) -> float:
    return value.timestamp()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class _Emitter:
    org_id: str
    station_id: str
    now: datetime
    out: list[AlarmTransition] = field(default_factory=list)

    def emit(
        self,
        kind: TransitionType,
        rule: AlarmRule,
        condition: Condition,
        sensor: str | None,
        at: float,
        value: float | None,
        limit: float | None,
        reason: str | None = None,
    ) -> None:
        alarm = alarm_id(rule.rule_id, condition, self.station_id, sensor)
        when = _at(at)
        self.out.append(
            AlarmTransition(
                event_id=event_id(self.org_id, alarm, kind, when),
                type=kind,
                org_id=self.org_id,
                alarm_id=alarm,
                rule_id=rule.rule_id,
                station_id=self.station_id,
                sensor=sensor,
                condition=condition,
                severity=rule.severity_of(condition),
                at=when,
                value=finite(value),
                limit=finite(limit),
                reason=reason,
                emitted_at=self.now,
            )
        )


def evaluate_message(
    state: State,
    rules: list[AlarmRule],
    message: StationReadingsAccepted,
    now: datetime,
    live_window_s: float = LIVE_WINDOW_S,
) -> list[AlarmTransition]:
    """The transitions ``message``'s readings cause; ``state`` is updated in place."""
    state["org"] = message.org_id
    emitter = _Emitter(message.org_id, message.station_id, now)
    _retire(state, rules, emitter)
    horizon = _ts(now) - live_window_s
    seen: dict[str, float] = state["seen"]
    for reading in sorted(message.readings, key=lambda r: r.ts):
        ts = _ts(reading.ts)
        if ts < horizon:
            continue
        fresh = {
            sensor: value
            for sensor, value in reading.values.items()
            if value is not None and ts > seen.get(sensor, float("-inf"))
        }
        if not fresh:
            continue
        for sensor in fresh:
            seen[sensor] = ts
        seen[ANY_SENSOR] = max(ts, seen.get(ANY_SENSOR, float("-inf")))
        for rule in rules:
            if rule.kind == "no_data":
                watched = ANY_SENSOR if rule.sensor is None else rule.sensor
                if watched == ANY_SENSOR or watched in fresh:
                    _came_back(state, rule, emitter, ts)
            elif rule.sensor in fresh:
                value = fresh[rule.sensor]
                if rule.kind == "limit":
                    _limits(state, rule, emitter, rule.sensor, ts, value)
                else:
                    _rate(state, rule, emitter, rule.sensor, ts, value)
    _prune(state)
    return emitter.out


def check_silence(
    state: State, rules: list[AlarmRule], station_id: str, now: datetime
) -> list[AlarmTransition]:
    """The no-data alarms of a station silent for longer than its rules allow.

    A station never heard from raises nothing (there is no "last reading" to be late
    after). The alarm's time is the instant the silence passed the limit, so asking
    again (a restarted evaluator) yields the same event.
    """
    emitter = _Emitter(state["org"], station_id, now)
    _retire(state, rules, emitter)
    for rule in rules:
        if rule.kind != "no_data" or rule.out_of_service or rule.silent_for_s is None:
            continue
        sensor = rule.sensor
        last = state["seen"].get(ANY_SENSOR if sensor is None else sensor)
        if last is None:
            continue
        alarm = _alarm(state, rule, "NODATA", station_id, sensor)
        due = last + rule.silent_for_s
        if not alarm.get("active") and _ts(now) >= due:
            alarm.update(active=True, at=due)
            emitter.emit(
                "raised", rule, "NODATA", sensor, due, rule.silent_for_s, rule.silent_for_s
            )
    _prune(state)
    return emitter.out


def _prune(state: State) -> None:
    """A normal alarm keeps no entry."""
    state["alarms"] = {k: v for k, v in state["alarms"].items() if v}


def _clear(alarm: dict[str, Any], ts: float) -> float:
    """End an alarm at ``ts``, or at its raise if that was later; the time to emit."""
    at = max(ts, alarm.get("at", ts))
    alarm.clear()
    return float(at)


def _alarm(
    state: State, rule: AlarmRule, condition: Condition, station_id: str, sensor: str | None
) -> dict[str, Any]:
    alarms: dict[str, dict[str, Any]] = state["alarms"]
    return alarms.setdefault(alarm_id(rule.rule_id, condition, station_id, sensor), {})


def _retire(state: State, rules: Iterable[AlarmRule], emitter: _Emitter) -> None:
    """Active alarms whose rule is gone, out of service, or no longer sets the condition
    are cleared (at now): an alarm never stays up for a rule nobody can see."""
    wanted: dict[str, AlarmRule] = {}
    windows = {f"{r.rule_id}/{r.sensor}" for r in rules if r.kind == "rate"}
    for key in [k for k in state["windows"] if k not in windows]:
        del state["windows"][key]
    for rule in rules:
        if rule.out_of_service:
            continue
        for condition, _ in rule.conditions():
            wanted[alarm_id(rule.rule_id, condition, emitter.station_id, rule.sensor)] = rule
    by_id = {r.rule_id: r for r in rules}
    for alarm, entry in list(state["alarms"].items()):
        if alarm in wanted:
            continue
        if entry.get("active"):
            rule_id, _, rest = alarm.partition(":")
            condition, _, tail = rest.partition("/")
            sensor = tail.partition("/")[2]
            owner = by_id.get(rule_id)
            reason = "rule out of service" if owner and owner.out_of_service else "rule removed"
            at = _at(max(_ts(emitter.now), entry.get("at", 0.0)))
            emitter.out.append(
                AlarmTransition(
                    event_id=event_id(emitter.org_id, alarm, "cleared", at, reason),
                    type="cleared",
                    org_id=emitter.org_id,
                    alarm_id=alarm,
                    rule_id=rule_id,
                    station_id=emitter.station_id,
                    sensor=None if sensor == "*" else sensor,
                    condition=condition,
                    severity=owner.severity_of(condition) if owner else "low",
                    at=at,
                    reason=reason,
                    emitted_at=emitter.now,
                )
            )
        del state["alarms"][alarm]


def _limits(
    state: State, rule: AlarmRule, e: _Emitter, sensor: str, ts: float, value: float
) -> None:
    if rule.out_of_service:
        return
    for condition, limit in rule.conditions():
        assert limit is not None
        high = condition in ("HH", "H")
        reached = value >= limit if high else value <= limit
        back = value < limit - rule.deadband if high else value > limit + rule.deadband
        alarm = _alarm(state, rule, condition, e.station_id, sensor)
        if alarm.get("active"):
            if back:
                e.emit("cleared", rule, condition, sensor, _clear(alarm, ts), value, limit)
            continue
        if not reached:
            alarm.pop("pending", None)
            continue
        since = alarm.setdefault("pending", ts)
        if ts - since >= rule.on_delay_s:
            alarm.clear()
            alarm.update(active=True, at=ts)
            e.emit("raised", rule, condition, sensor, ts, value, limit)


def _rate(state: State, rule: AlarmRule, e: _Emitter, sensor: str, ts: float, value: float) -> None:
    windows: dict[str, list[list[float]]] = state["windows"]
    points = windows.setdefault(f"{rule.rule_id}/{sensor}", [])
    # Points at least 1/MAX_WINDOW_POINTS of the window apart: the newest replaces the
    # last one while that is closer than this to the one before it.
    if len(points) >= 2 and ts - points[-2][0] < rule.window_s / MAX_WINDOW_POINTS:
        points[-1] = [ts, value]
    elif not points or points[-1][0] < ts:
        points.append([ts, value])
    while points and points[0][0] < ts - rule.window_s:
        points.pop(0)
    if rule.out_of_service or rule.rate_per_minute is None or len(points) < 2:
        return
    (t0, v0), (t1, v1) = points[0], points[-1]
    if t1 - t0 < min(rule.window_s / 2, 60):
        return  # too short a span to call it a rate
    per_minute = (v1 - v0) / (t1 - t0) * 60
    alarm = _alarm(state, rule, "ROC", e.station_id, sensor)
    limit = rule.rate_per_minute
    if alarm.get("active"):
        if abs(per_minute) < limit - rule.deadband:
            e.emit("cleared", rule, "ROC", sensor, _clear(alarm, ts), per_minute, limit)
    elif abs(per_minute) >= limit:
        alarm.update(active=True, at=ts)
        e.emit("raised", rule, "ROC", sensor, ts, per_minute, limit)


def _came_back(state: State, rule: AlarmRule, e: _Emitter, ts: float) -> None:
    alarm = _alarm(state, rule, "NODATA", e.station_id, rule.sensor)
    if alarm.get("active"):
        at = _clear(alarm, ts)
        e.emit("cleared", rule, "NODATA", rule.sensor, at, 0.0, rule.silent_for_s)
