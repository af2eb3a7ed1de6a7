"""The operations view's figures, read from Prometheus's HTTP API.

The API asks Prometheus a fixed set of queries — the recording rules the alerts and
the Grafana dashboards use, so all three show the same series — and never passes a
caller's PromQL on. What it answers (``GET /v1/operations``):

- ``alerts``: what Prometheus's rules have firing or pending, firing first
- ``lag``: every measured group's lag per partition, in messages and seconds
- ``dead_letters``: messages in the dead-letter topic now
- ``series``: the last ``minutes`` of readings accepted and stored per second, lag in
  seconds per group, dead letters, and historical queue wait (p90) per lane
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from base.http.errors import Unavailable

TIMEOUT = 5.0
"""Seconds for Prometheus to answer every query of one view."""
POINTS = 240
"""At most this many points per series: the step grows with the window."""
MIN_STEP = 15
"""Seconds: Prometheus's scrape and evaluation interval (deploy/prometheus)."""

RANGES: Mapping[str, str] = {
    "readings_accepted": "scada:readings_accepted:rate5m",
    "readings_stored": "scada:readings_stored:rate5m",
    "lag_seconds": "scada:consumer_lag_seconds:max",
    "dead_letters": "sum by (topic) (scada_dead_letters)",
    "queue_wait": "scada:historical_queue_wait_seconds:p90_5m",
}
"""The charts: name → query over the window."""
_LAG_MESSAGES = "scada_consumer_lag_messages"
_LAG_SECONDS = "scada_consumer_lag_seconds"
_DEAD_LETTERS = "sum(scada_dead_letters)"
_ALERT_ORDER = {"firing": 0, "pending": 1}


class PrometheusUnavailable(Unavailable):
    code = "prometheus_unavailable"


@dataclass(frozen=True)
class Window:
    minutes: int
    end: float  # unix seconds

    @property
    def step(self) -> int:
        return max(MIN_STEP, math.ceil(self.minutes * 60 / POINTS))

    @property
    def start(self) -> float:
        return self.end - self.minutes * 60


async def operations_view(
    prometheus_url: str, minutes: int, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """Everything the view draws, asked of Prometheus at once.

    Any way Prometheus fails to answer — refused, slow, an error status, a body not
    shaped as its API's — is one :class:`PrometheusUnavailable` (a 503).
    """
    window = Window(minutes, time.time())
    client = httpx.AsyncClient(base_url=prometheus_url, timeout=TIMEOUT, transport=transport)
    try:
        async with client, asyncio.timeout(TIMEOUT), asyncio.TaskGroup() as tasks:
            alerts = tasks.create_task(_get(client, "/api/v1/alerts", {}))
            instants = {
                q: tasks.create_task(
                    _get(client, "/api/v1/query", {"query": q, "time": window.end})
                )
                for q in (_LAG_MESSAGES, _LAG_SECONDS, _DEAD_LETTERS)
            }
            ranges = {
                name: tasks.create_task(_range(client, query, window))
                for name, query in RANGES.items()
            }
    except* (httpx.HTTPError, TimeoutError, _NotPrometheus) as group:
        # One clause: two kinds of failure in one group must still be one 503.
        first = group.exceptions[0]
        reason = str(first) if isinstance(first, _NotPrometheus) else repr(first)
        raise PrometheusUnavailable(
            f"Prometheus at {prometheus_url} did not answer: {reason}"
        ) from None
    try:
        dead = instants[_DEAD_LETTERS].result()["result"]
        lag = _lag(
            instants[_LAG_MESSAGES].result()["result"], instants[_LAG_SECONDS].result()["result"]
        )
        return {
            "as_of": window.end,
            "minutes": window.minutes,
            "step_seconds": window.step,
            "alerts": _alerts(alerts.result()["alerts"]),
            "lag": lag,
            "dead_letters": _number(dead[0]["value"][1]) if dead else None,
            "series": {name: _series(task.result()["result"]) for name, task in ranges.items()},
        }
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise PrometheusUnavailable(
            f"Prometheus at {prometheus_url} answered in a shape not understood: {exc!r}"
        ) from None


class _NotPrometheus(Exception):
    """The address answered, but not as Prometheus's API does."""


async def _get(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(path, params=params)
    response.raise_for_status()
    try:
        body = response.json()
        data: dict[str, Any] = body["data"]
    except (ValueError, KeyError, TypeError):
        raise _NotPrometheus(f"{path} answered not as Prometheus does") from None
    return data


async def _range(client: httpx.AsyncClient, query: str, window: Window) -> dict[str, Any]:
    params = {"query": query, "start": window.start, "end": window.end, "step": window.step}
    return await _get(client, "/api/v1/query_range", params)


def _series(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "labels": _labels(series["metric"]),
            "points": [[float(t), _number(v)] for t, v in series["values"]],
        }
        for series in result
    ]


def _labels(metric: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in metric.items() if k != "__name__"}


def _number(text: str) -> float | None:
    """A sample's value; NaN and infinities (an empty histogram's quantile) are no value."""
    value = float(text)
    return value if math.isfinite(value) else None


def _lag(messages: list[dict[str, Any]], seconds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(series: Mapping[str, Any]) -> tuple[str, str, int]:
        m = series["metric"]
        return m.get("group", ""), m.get("topic", ""), int(m.get("partition", "0"))

    ages = {key(s): _number(s["value"][1]) for s in seconds}
    rows = [
        {
            "group": group,
            "topic": topic,
            "partition": partition,
            "messages": _number(s["value"][1]),
            "seconds": ages.get((group, topic, partition)),
        }
        for s in messages
        for group, topic, partition in [key(s)]
    ]
    return sorted(rows, key=lambda r: (r["group"], r["topic"], r["partition"]))


def _alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {
            "name": a["labels"].get("alertname", ""),
            "state": a.get("state", ""),
            "severity": a["labels"].get("severity", ""),
            "since": str(a["activeAt"]) if a.get("activeAt") else None,
            "summary": a.get("annotations", {}).get("summary", ""),
            "runbook": a.get("annotations", {}).get("runbook", ""),
            "labels": _labels(a["labels"]),
        }
        for a in alerts
    ]
    return sorted(
        rows, key=lambda r: (_ALERT_ORDER.get(r["state"], 2), r["name"], r["since"] or "")
    )
