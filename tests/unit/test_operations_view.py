"""How the operations view turns Prometheus's answers into rows, and the lag exporter's
exposition (no server: Prometheus is played by httpx.MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from base.kafka_operations import PartitionLag
from historical_service.operations import (
    RANGES,
    PrometheusUnavailable,
    Window,
    _alerts,
    _lag,
    _number,
    _series,
    operations_view,
)
from tooling.lag_exporter import render


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


def _prometheus(answers: dict[str, Any]) -> httpx.MockTransport:
    """A stand-in for Prometheus's HTTP API: each path answers what ``answers`` says."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers[request.url.path]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"status": "success", "data": answer(request)})

    return httpx.MockTransport(handle)


def _vector(request: httpx.Request) -> dict[str, Any]:
    query = request.url.params["query"]
    if query == "sum(scada_dead_letters)":
        return {"resultType": "vector", "result": [{"metric": {}, "value": [1, "4"]}]}
    labels = {"group": "sink", "topic": "r", "partition": "0"}
    value = "12" if "messages" in query else "75.5"
    return {"resultType": "vector", "result": [{"metric": labels, "value": [1, value]}]}


def _matrix(request: httpx.Request) -> dict[str, Any]:
    metric = {"__name__": request.url.params["query"], "lane": "bulk"}
    return {"resultType": "matrix", "result": [{"metric": metric, "values": [[1, "2"]]}]}


def _alerts_of(alerts: list[Any]) -> Any:
    return lambda request: {"alerts": alerts}


async def test_a_whole_view_is_shaped_from_prometheus_answers() -> None:
    alert = {
        "labels": {"alertname": "SinkLagSeconds", "severity": "page", "group": "sink"},
        "annotations": {"summary": "behind", "runbook": "docs/operations.md#sinklagseconds"},
        "state": "firing",
        "activeAt": "2026-12-01T10:00:00Z",
    }
    transport = _prometheus(
        {
            "/api/v1/alerts": _alerts_of([alert]),
            "/api/v1/query": _vector,
            "/api/v1/query_range": _matrix,
        }
    )
    view = await operations_view("http://prometheus", 60, transport=transport)
    assert view["alerts"][0]["name"] == "SinkLagSeconds"
    assert view["lag"] == [
        {"group": "sink", "topic": "r", "partition": 0, "messages": 12.0, "seconds": 75.5}
    ]
    assert view["dead_letters"] == 4.0
    assert set(view["series"]) == set(RANGES)
    assert view["series"]["queue_wait"] == [{"labels": {"lane": "bulk"}, "points": [[1.0, 2.0]]}]


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(
            {
                "/api/v1/alerts": httpx.Response(502),
                "/api/v1/query": httpx.Response(200, text="<html>a proxy</html>"),
                "/api/v1/query_range": httpx.Response(200, text="<html>a proxy</html>"),
            },
            id="two kinds of failure at once",
        ),
        pytest.param(
            {
                "/api/v1/alerts": _alerts_of([{"labels": None, "state": "firing"}]),
                "/api/v1/query": _vector,
                "/api/v1/query_range": _matrix,
            },
            id="an alert without labels",
        ),
        pytest.param(
            {
                "/api/v1/alerts": _alerts_of([]),
                "/api/v1/query": lambda request: {"result": [{"metric": {}}]},
                "/api/v1/query_range": _matrix,
            },
            id="a sample without a value",
        ),
    ],
)
async def test_any_odd_answer_is_one_prometheus_unavailable(answers: dict[str, Any]) -> None:
    with pytest.raises(PrometheusUnavailable, match="Prometheus at http://prometheus"):
        await operations_view("http://prometheus", 60, transport=_prometheus(answers))


def test_the_lag_exporter_says_when_kafka_did_not_answer() -> None:
    quiet = render(None, None).decode()
    assert "scada_lag_exporter_kafka_up 0.0" in quiet
    assert "scada_consumer_lag_messages{" not in quiet
    lag = PartitionLag("sink", "r", 3, 10, 15, 5, 42.0)
    measured = render([lag], None).decode()
    assert "scada_lag_exporter_kafka_up 1.0" in measured
    assert 'scada_consumer_lag_messages{group="sink",partition="3",topic="r"} 5.0' in measured
    assert 'scada_consumer_lag_seconds{group="sink",partition="3",topic="r"} 42.0' in measured
    assert "scada_dead_letters{" not in measured  # no topic yet: no depth, not a zero
    assert 'scada_dead_letters{topic="dlq"} 7.0' in render([lag], {"dlq": 7}).decode()
