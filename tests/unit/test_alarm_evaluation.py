"""The alarm rules on a station's readings, as pure logic: limits with deadband and
on-delay, rate of change, no data, late and backfilled readings, stable event ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from alarm_evaluator.evaluation import (
    Rules,
    check_silence,
    evaluate_message,
    new_state,
)
from schemas.alarms import AlarmRule, AlarmRuleSpec, AlarmTransition
from schemas.readings import Reading, StationReadingsAccepted

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _rule(rule_id: str = "hot", **spec: Any) -> AlarmRule:
    return AlarmRule(org_id="org", rule_id=rule_id, updated_at=NOW, **spec)


def _message(*readings: tuple[float, dict[str, float | None]], station: str = "S1") -> Any:
    return StationReadingsAccepted(
        ingest_id=uuid4(),
        org_id="org",
        station_id=station,
        chunk=0,
        accepted_at=NOW,
        readings=[
            Reading(ts=NOW + timedelta(seconds=offset), values=values)
            for offset, values in readings
        ],
    )


def _run(
    state: dict[str, Any], rules: list[AlarmRule], *readings: Any, now: datetime = NOW
) -> list[tuple[str, str, float | None]]:
    out = evaluate_message(state, rules, _message(*readings), now + timedelta(minutes=1))
    return [(t.type, t.condition, t.value) for t in out]


LIMITS = _rule(kind="limit", sensor="temperature", hh=40, h=35, l=5, deadband=1)


def test_limits_raise_at_the_limit_and_clear_past_the_deadband() -> None:
    state = new_state("org")
    assert _run(state, [LIMITS], (0, {"temperature": 34.9})) == []
    assert _run(state, [LIMITS], (10, {"temperature": 35.0})) == [("raised", "H", 35.0)]
    assert _run(state, [LIMITS], (20, {"temperature": 34.5})) == []  # inside the deadband
    assert _run(state, [LIMITS], (30, {"temperature": 41})) == [("raised", "HH", 41)]
    assert _run(state, [LIMITS], (40, {"temperature": 33.9})) == [
        ("cleared", "HH", 33.9),
        ("cleared", "H", 33.9),
    ]
    assert _run(state, [LIMITS], (50, {"temperature": 4.0})) == [("raised", "L", 4.0)]
    assert _run(state, [LIMITS], (60, {"temperature": None, "rain": 1.0})) == []


def test_the_on_delay_needs_the_condition_to_hold_on_the_readings_clock() -> None:
    rule = _rule(kind="limit", sensor="temperature", h=35, on_delay_s=30)
    state = new_state("org")
    assert _run(state, [rule], (0, {"temperature": 36}), (20, {"temperature": 36})) == []
    assert _run(state, [rule], (25, {"temperature": 30})) == []  # broken: starts again
    assert _run(state, [rule], (30, {"temperature": 36}), (50, {"temperature": 36})) == []
    assert _run(state, [rule], (60, {"temperature": 37})) == [("raised", "H", 37)]


def test_late_backfilled_and_replayed_readings_raise_nothing() -> None:
    state = new_state("org")
    # A year of history posted now: every reading is older than the live window.
    year = [(-86400.0 * d, {"temperature": 50.0}) for d in range(365, 0, -1)]
    assert _run(state, [LIMITS], *year) == []
    assert _run(state, [LIMITS], (0, {"temperature": 36})) == [("raised", "H", 36)]
    # A reading older than the newest one evaluated (late, or the same message again).
    assert _run(state, [LIMITS], (-5, {"temperature": 20})) == []
    assert _run(state, [LIMITS], (0, {"temperature": 20})) == []
    assert state["alarms"]["hot:H/S1/temperature"]["active"] is True


def test_the_same_reading_gives_the_same_event_id() -> None:
    first = evaluate_message(new_state("org"), [LIMITS], _message((0, {"temperature": 36})), NOW)
    again = evaluate_message(
        new_state("org"), [LIMITS], _message((0, {"temperature": 36})), NOW + timedelta(seconds=1)
    )
    assert [t.event_id for t in first] == [t.event_id for t in again]
    assert len({t.event_id for t in first}) == len(first) == 1
    # …and it survives the topic's encoding.
    assert AlarmTransition.model_validate_json(first[0].model_dump_json()) == first[0]


def test_a_rate_of_change_over_its_window() -> None:
    rule = _rule("rise", kind="rate", sensor="water_level", rate_per_minute=0.5, window_s=120)
    state = new_state("org")
    steady = [(t, {"water_level": 1.0 + 0.001 * t}) for t in range(0, 180, 10)]
    assert _run(state, [rule], *steady) == []
    flood = [(t, {"water_level": 1.2 + 0.02 * (t - 180)}) for t in range(180, 300, 10)]
    out = _run(state, [rule], *flood)
    assert [kind for kind, _, _ in out] == ["raised"]
    assert (out[0][2] or 0) >= 0.5
    calm = [(t, {"water_level": 3.6}) for t in range(300, 480, 10)]
    assert [kind for kind, _, _ in _run(state, [rule], *calm)] == ["cleared"]


def test_no_data_is_raised_when_the_silence_passes_its_limit_and_cleared_by_a_reading() -> None:
    rule = _rule("quiet", kind="no_data", silent_for_s=300)
    state = new_state("org")
    assert check_silence(state, [rule], "S1", NOW) == []  # never heard from: nothing
    _run(state, [rule], (0, {"temperature": 20}))
    assert check_silence(state, [rule], "S1", NOW + timedelta(seconds=299)) == []
    raised = check_silence(state, [rule], "S1", NOW + timedelta(seconds=400))
    assert [(t.type, t.at) for t in raised] == [("raised", NOW + timedelta(seconds=300))]
    assert check_silence(state, [rule], "S1", NOW + timedelta(seconds=500)) == []  # raised once
    back = evaluate_message(
        state, [rule], _message((590, {"rain": 0.0})), NOW + timedelta(seconds=600)
    )
    assert [(t.type, t.condition) for t in back] == [("cleared", "NODATA")]


def test_an_alarm_whose_rule_goes_is_cleared_and_out_of_service_raises_nothing() -> None:
    state = new_state("org")
    assert _run(state, [LIMITS], (0, {"temperature": 36})) == [("raised", "H", 36)]
    off = _rule(
        **{**LIMITS.model_dump(exclude={"org_id", "rule_id", "updated_at"}), "out_of_service": True}
    )
    out = evaluate_message(state, [off], _message((10, {"temperature": 37})), NOW)
    assert [(t.type, t.reason) for t in out] == [("cleared", "rule out of service")]
    assert _run(state, [off], (20, {"temperature": 45})) == []
    assert _run(state, [LIMITS], (30, {"temperature": 36})) == [("raised", "H", 36)]
    gone = evaluate_message(state, [], _message((40, {"temperature": 36})), NOW)
    assert [(t.type, t.reason) for t in gone] == [("cleared", "rule removed")]
    assert state["alarms"] == {}


def test_rules_apply_to_their_station_or_all_of_the_orgs() -> None:
    rules = Rules()
    rules.put("org/a", _rule("a", kind="no_data", silent_for_s=60, station="S1"))
    rules.put("org/b", _rule("b", kind="no_data", silent_for_s=60))
    rules.put(
        "other/c",
        AlarmRule(org_id="other", rule_id="c", updated_at=NOW, kind="no_data", silent_for_s=60),
    )
    assert [r.rule_id for r in rules.for_station("org", "S1")] == ["a", "b"]
    assert [r.rule_id for r in rules.for_station("org", "S2")] == ["b"]
    rules.put("org/b", None)
    assert rules.for_station("org", "S2") == []


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"kind": "limit", "sensor": "t"}, "at least one of hh, h, l, ll"),
        ({"kind": "limit", "sensor": "t", "h": 5, "hh": 4}, "ordered"),
        ({"kind": "limit", "h": 5}, "names its sensor"),
        ({"kind": "rate", "sensor": "t"}, "sets rate_per_minute"),
        ({"kind": "no_data", "silent_for_s": 60, "h": 3}, "only a limit rule"),
        ({"kind": "no_data"}, "sets silent_for_s"),
        ({"kind": "limit", "sensor": "t", "h": 1, "colour": "red"}, "Extra inputs"),
    ],
)
def test_a_rule_that_does_not_fit_its_kind_is_refused(spec: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        AlarmRuleSpec.model_validate(spec)


def test_the_longest_ids_still_make_a_transition() -> None:
    """Rule, station and sensor ids of 64 characters each: the alarm id fits the topic's
    model (a transition that failed validation would stop the evaluator on it)."""
    rule = AlarmRule(
        org_id="org",
        rule_id="r" * 64,
        updated_at=NOW,
        kind="no_data",
        silent_for_s=10,
        sensor="s" * 64,
    )
    state = new_state("org")
    evaluate_message(state, [rule], _message((0, {"s" * 64: 1.0}), station="S" * 64), NOW)
    raised = check_silence(state, [rule], "S" * 64, NOW + timedelta(seconds=20))
    assert [t.condition for t in raised] == ["NODATA"]
    assert len(raised[0].alarm_id) == 64 * 3 + len(":NODATA//")


def test_a_clear_is_never_earlier_than_its_raise() -> None:
    """A logger's buffer arriving after a no-data alarm holds readings from inside the
    silence: the alarm is cleared at the raise's time, not before it."""
    rule = _rule("quiet", kind="no_data", silent_for_s=60)
    state = new_state("org")
    _run(state, [rule], (0, {"rain": 0.0}))
    raised = check_silence(state, [rule], "S1", NOW + timedelta(seconds=120))
    back = evaluate_message(
        state, [rule], _message((30, {"rain": 0.0}), (90, {"rain": 0.0})), NOW + timedelta(0, 130)
    )
    assert [t.type for t in back] == ["cleared"]
    assert back[0].at == raised[0].at == NOW + timedelta(seconds=60)


def test_each_rate_rule_keeps_its_own_window() -> None:
    slow = _rule("slow", kind="rate", sensor="level", rate_per_minute=1.0, window_s=3600)
    fast = _rule("fast", kind="rate", sensor="level", rate_per_minute=100.0, window_s=60)
    state = new_state("org")
    # A steady rise of 1.2 a minute for 40 minutes, a reading every 10 s.
    out = _run(state, [slow, fast], *[(t, {"level": 0.02 * t}) for t in range(-2400, 0, 10)])
    assert [(kind, cond) for kind, cond, _ in out] == [("raised", "ROC")]
    assert set(state["windows"]) == {"slow/level", "fast/level"}
    assert len(state["windows"]["slow/level"]) <= 125  # spread over the hour, not every point
