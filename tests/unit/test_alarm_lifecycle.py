"""The ISA-18.2 lifecycle as a fold over transitions: each state reached by its
transitions, and every double or stale transition changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from base.alarm_lifecycle import AlarmState, apply
from schemas.alarms import AlarmTransition

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _t(kind: str, seconds: float, **extra: Any) -> AlarmTransition:
    return AlarmTransition.model_validate(
        {
            "event_id": uuid4(),
            "type": kind,
            "org_id": "org",
            "alarm_id": "hot:H/S1/temperature",
            "rule_id": "hot",
            "station_id": "S1",
            "sensor": "temperature",
            "condition": "H",
            "severity": "high",
            "at": T0 + timedelta(seconds=seconds),
            "emitted_at": T0,
            **extra,
        }
    )


def _fold(*events: AlarmTransition) -> tuple[AlarmState | None, list[bool]]:
    state: AlarmState | None = None
    changed = []
    for event in events:
        after = apply(state, event)
        changed.append(after is not None)
        state = after or state
    return state, changed


def test_raised_acknowledged_cleared_is_normal() -> None:
    state, changed = _fold(
        _t("raised", 0, value=36), _t("acknowledged", 5, by="ana"), _t("cleared", 9)
    )
    assert changed == [True, True, True]
    assert state is not None
    assert (state.state, state.acknowledged_by, state.raised_at) == ("normal", "ana", T0)


def test_cleared_before_it_is_acknowledged_returns_unacknowledged() -> None:
    state, _ = _fold(_t("raised", 0), _t("cleared", 3))
    assert state is not None
    assert state.state == "returned_unacknowledged"
    state, _ = _fold(_t("raised", 0), _t("cleared", 3), _t("acknowledged", 4, by="ana"))
    assert state is not None
    assert state.state == "normal"


def test_doubles_and_stale_transitions_change_nothing() -> None:
    _, changed = _fold(
        _t("raised", 0),
        _t("raised", 1),  # a replay's raise, another id: already active
        _t("acknowledged", 2, by="ana"),
        _t("acknowledged", 3, by="bo"),  # already acknowledged
        _t("cleared", 4),
        _t("cleared", 5),  # already clear
        _t("raised", 3),  # older than the alarm's last condition
    )
    assert changed == [True, False, True, False, True, False, False]
    # An operator's action on an alarm never raised.
    assert apply(None, _t("acknowledged", 0, by="ana")) is None
    assert apply(None, _t("cleared", 0)) is None


def test_shelving_is_bounded_and_undone() -> None:
    until = T0 + timedelta(minutes=30)
    state, changed = _fold(
        _t("raised", 0),
        _t("shelved", 1, by="ana", reason="sensor swap", shelved_until=until),
        _t("unshelved", 2, by="system"),
        _t("unshelved", 3, by="system"),  # not shelved any more
    )
    assert changed == [True, True, True, False]
    assert state is not None
    assert state.shelved_until is None
    # A shelving that ends before it begins is no shelving.
    assert apply(state, _t("shelved", 10, by="ana", reason="x", shelved_until=T0)) is None


def test_an_old_shelvings_expiry_leaves_a_newer_one_standing() -> None:
    first, second = T0 + timedelta(minutes=5), T0 + timedelta(minutes=60)
    state, changed = _fold(
        _t("raised", 0),
        _t("shelved", 1, by="ana", reason="a", shelved_until=first),
        _t("shelved", 2, by="bo", reason="b", shelved_until=second),
        _t("unshelved", 300, by="system", shelved_until=first),  # the first one's end
    )
    assert changed == [True, True, True, False]
    assert state is not None
    assert (state.shelved_until, state.shelved_by) == (second, "bo")
