"""How the operations view turns Prometheus's answers into rows (no server needed)."""

from __future__ import annotations

from historical_service.operations import Window, _alerts, _lag, _number, _series


def _sample(value: str, **labels: str) -> dict[str, object]:
    return {"metric": {"__name__": "x", **labels}, "value": [1.0, value]}


def test_lag_rows_pair_messages_with_seconds_per_partition_in_order() -> None:
    messages = [
        _sample("7", group="sink", topic="r", partition="10"),
        _sample("3", group="sink", topic="r", partition="2"),
        _sample("0", group="jobs", topic="c", partition="0"),
    ]
    seconds = [
        _sample("61.5", group="sink", topic="r", partition="2"),
        _sample("NaN", group="sink", topic="r", partition="10"),
    ]
    assert _lag(messages, seconds) == [
        {"group": "jobs", "topic": "c", "partition": 0, "messages": 0.0, "seconds": None},
        {"group": "sink", "topic": "r", "partition": 2, "messages": 3.0, "seconds": 61.5},
        {"group": "sink", "topic": "r", "partition": 10, "messages": 7.0, "seconds": None},
    ]


def test_firing_alerts_come_before_pending_ones() -> None:
    def alert(name: str, state: str) -> dict[str, object]:
        return {
            "labels": {"alertname": name, "severity": "page"},
            "annotations": {"summary": f"{name} summary", "runbook": f"docs#{name.lower()}"},
            "state": state,
            "activeAt": "2026-12-01T10:00:00Z",
        }

    rows = _alerts([alert("B", "pending"), alert("C", "firing"), alert("A", "firing")])
    assert [(r["name"], r["state"]) for r in rows] == [
        ("A", "firing"),
        ("C", "firing"),
        ("B", "pending"),
    ]
    assert rows[0]["runbook"] == "docs#a"
    assert rows[0]["labels"] == {"alertname": "A", "severity": "page"}


def test_non_finite_samples_are_no_value_and_names_are_dropped() -> None:
    assert _number("+Inf") is None
    assert _number("NaN") is None
    assert _number("2.5") == 2.5
    series = _series([{"metric": {"__name__": "q", "lane": "bulk"}, "values": [[10, "NaN"]]}])
    assert series == [{"labels": {"lane": "bulk"}, "points": [[10.0, None]]}]


def test_the_step_keeps_a_window_within_240_points_and_at_least_the_scrape_interval() -> None:
    assert Window(5, 0).step == 15
    assert Window(60, 0).step == 15
    assert Window(1440, 0).step == 360
    assert Window(1440, 1000.0).start == 1000.0 - 86_400
