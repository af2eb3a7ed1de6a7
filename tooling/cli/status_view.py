"""What ``scada status`` shows, and how: gathered elsewhere, formatted here without I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from base.kafka_operations import GroupLag
from tooling.cli.output import duration, table
from tooling.local_stack.stack import ComponentStatus

QUIET_GROUPS_SHOWN = 5  # caught-up groups listed before the rest are only counted


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str | None
    state: str  # Alertmanager's: "active", "suppressed" (silenced or inhibited), "unprocessed"
    starts_at: str
    summary: str | None
    labels: dict[str, str]


def alert_of(raw: dict[str, Any]) -> Alert:
    """One alert of Alertmanager's ``GET /api/v2/alerts`` answer."""
    labels = {str(k): str(v) for k, v in raw.get("labels", {}).items()}
    annotations = raw.get("annotations", {})
    return Alert(
        name=labels.get("alertname", "?"),
        severity=labels.get("severity"),
        state=str(raw.get("status", {}).get("state", "active")),
        starts_at=str(raw.get("startsAt", "")),
        summary=annotations.get("summary") or annotations.get("description"),
        labels=labels,
    )


@dataclass(frozen=True)
class LaneQueue:
    lane: str
    queued: int
    oldest_wait_seconds: float | None  # None: nothing waits


@dataclass(frozen=True)
class StatusReport:
    """Each part is ``None`` when it could not be read; ``unavailable`` then says why."""

    components: list[ComponentStatus]
    consumer_lag: list[GroupLag] | None
    dead_letters: int | None
    job_queue: list[LaneQueue] | None
    alerts: list[Alert] | None
    unavailable: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def render(report: StatusReport) -> str:
    sections = [
        table(
            ("component", "state", "pid", "address", "health"),
            [(c.name, c.state, c.pid, c.address, c.health) for c in report.components],
        ),
        _lag(report),
        _dead_letters(report),
        _queue(report),
        _alerts(report),
    ]
    return "\n\n".join(sections)


def _missing(report: StatusReport, part: str, title: str) -> str:
    return f"{title}: unavailable ({report.unavailable.get(part, 'not read')})"


def _lag(report: StatusReport) -> str:
    if report.consumer_lag is None:
        return _missing(report, "consumer_lag", "consumer lag")
    if not report.consumer_lag:
        return "consumer lag: no consumer groups have committed offsets"
    behind = [g for g in report.consumer_lag if g.messages]
    quiet = [g for g in report.consumer_lag if not g.messages]
    # Behind first, all of them; then a few caught-up ones, so a broker with many
    # (test) groups still fits on one screen.
    shown = behind + quiet[:QUIET_GROUPS_SHOWN]
    lines = table(
        ("consumer group", "partitions", "behind", "oldest unconsumed"),
        [(g.group, g.partitions, f"{g.messages:,}", _age(g)) for g in shown],
    )
    hidden = len(quiet) - QUIET_GROUPS_SHOWN
    if hidden > 0:
        lines += f"\n... and {hidden:,} more groups, all caught up (scada lag --all)"
    return lines


def _age(group: GroupLag) -> str:
    return duration(group.max_seconds) if group.messages else "-"


def _dead_letters(report: StatusReport) -> str:
    if report.dead_letters is None:
        return _missing(report, "dead_letters", "dead letters")
    if not report.dead_letters:
        return "dead letters: none"
    return f"dead letters: {report.dead_letters:,} (scada dlq list)"


def _queue(report: StatusReport) -> str:
    if report.job_queue is None:
        return _missing(report, "job_queue", "historical job queue")
    return table(
        ("job lane", "queued", "oldest waiting"),
        [
            (
                q.lane,
                q.queued,
                "-" if q.oldest_wait_seconds is None else duration(q.oldest_wait_seconds),
            )
            for q in report.job_queue
        ],
    )


def _alerts(report: StatusReport) -> str:
    if report.alerts is None:
        return f"alerts: {report.unavailable.get('alerts', 'not read')}"
    if not report.alerts:
        return "alerts: none firing"
    return table(
        ("alert", "severity", "state", "since", "summary"),
        [(a.name, a.severity, a.state, a.starts_at, a.summary) for a in report.alerts],
    )
