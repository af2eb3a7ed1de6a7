"""What the ``scada`` commands print, from their own formatting code, without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from base.kafka_operations import PartitionLag, lag_by_group
from tooling.cli import app
from tooling.cli.jobs_cmd import SHORT_ID, jobs_table
from tooling.cli.lag_cmd import NO_GROUPS, lag_text
from tooling.cli.output import abbreviate, duration
from tooling.cli.status_view import LaneQueue, StatusReport, alert_of, render
from tooling.local_stack.stack import ComponentStatus


def _commands(group: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under ``group``, as the words that call it."""
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, TyperGroup):
            found += _commands(command, (*path, name))
    return found


ROOT = typer.main.get_group(app)
EVERY = _commands(ROOT)


def _is_group(path: tuple[str, ...]) -> bool:
    command: object = ROOT
    for name in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    return isinstance(command, TyperGroup)


LEAVES = [c for c in EVERY if not _is_group(c)]  # groups (``alarms rules``) have no --json


def _help(*command: str) -> str:
    shown = CliRunner().invoke(app, [*command, "--help"])
    assert shown.exit_code == 0, shown.output
    return shown.output


@pytest.mark.parametrize("command", [(), *EVERY], ids=lambda c: " ".join(c) or "scada")
def test_help_gives_flags_no_value_type(command: tuple[str, ...]) -> None:
    assert "<bool>" not in _help(*command)


def test_help_still_names_the_value_an_option_takes() -> None:
    assert "--interval SECONDS" in _help("lag")
    assert "-g, --group GROUP" in _help("lag")


@pytest.mark.parametrize("command", LEAVES, ids=" ".join)
def test_every_command_offers_json(command: tuple[str, ...]) -> None:
    assert "--json" in _help(*command)


def test_stack_help_speaks_of_the_whole_pipeline() -> None:
    assert "services" in _help("stack")
    assert "services" in _help("stack", "down")
    assert "services" in _help("stack", "status")


def _lag(group: str, part: int, committed: int | None, end: int, seconds: float) -> PartitionLag:
    behind = end - (committed or 0)
    return PartitionLag(group, "topic", part, committed, end, behind, seconds if behind else 0)


def test_lag_without_groups_says_so_instead_of_a_bare_header() -> None:
    assert lag_text([], all_partitions=True) == NO_GROUPS


def test_lag_lists_lagging_partitions_and_sums_them_up() -> None:
    rows = [_lag("g1", 0, 10, 10, 0), _lag("g1", 1, 4, 10, 30.0), _lag("g2", 0, None, 3, 90.0)]
    shown = lag_text(rows, all_partitions=False).splitlines()
    assert shown[0].split()[:3] == ["group", "topic", "partition"]
    lagging = [line.split()[:3] for line in shown[1:-1]]
    assert lagging == [["g1", "topic", "1"], ["g2", "topic", "0"]]
    assert shown[2].split()[3] == "-"  # never committed
    assert shown[-1].startswith("2 groups, 9 messages behind in all")
    assert duration(90.0) in shown[-1]


def test_lag_all_shows_caught_up_partitions_too() -> None:
    rows = [_lag("g", p, 5, 5, 0) for p in range(12)]
    shown = lag_text(rows, all_partitions=True).splitlines()
    assert [int(line.split()[2]) for line in shown[1:-1]] == list(range(12))
    caught_up = lag_text(rows, all_partitions=False)
    assert caught_up.startswith("1 group, 0 messages behind")
    assert "--all" in caught_up


def test_lag_by_group_totals_messages_and_takes_the_oldest_age() -> None:
    rows = [_lag("a", 0, 1, 4, 5.0), _lag("a", 1, 0, 2, 50.0), _lag("b", 0, 3, 3, 0)]
    totals = {g.group: (g.partitions, g.messages, g.max_seconds) for g in lag_by_group(rows)}
    assert totals == {"a": (2, 5, 50.0), "b": (1, 0, 0.0)}


def test_durations_stay_short() -> None:
    shown = [duration(s) for s in (3.25, 42, 425, 12_000, 190_000)]
    assert shown == ["3.2s", "42s", "7m05s", "3h20m", "2d04h"]


def test_jobs_table_shows_whose_job_and_what_it_reads() -> None:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    stations = ["AWS-1", "AWS-2", "AWS-3", "AWS-4", "AWS-5"]
    job = {
        "job_id": uuid4(),
        "user_id": uuid4(),
        "user_name": "alice",
        "lane": "interactive",
        "stations": stations,
        "sensors": ["temperature", "humidity"],
        "range_start": start,
        "range_end": start + timedelta(days=1),
        "resolution": "auto",
        "status": "queued",
        "progress": 0.5,
        "rows_done": 1234,
        "queued_at": start,
    }
    header, line = jobs_table([job]).splitlines()
    for column in ("user", "stations", "sensors", "range"):
        assert column in header
    assert line.startswith(str(job["job_id"])[:SHORT_ID] + " ")
    assert "alice" in line
    assert abbreviate(stations) == "AWS-1,AWS-2,AWS-3 +2"
    assert "AWS-1,AWS-2,AWS-3 +2" in line
    assert "temperature,humidity" in line
    assert "2026-11-23 00:00..2026-11-24 00:00" in line


def _report(**parts: object) -> StatusReport:
    defaults: dict[str, object] = {
        "components": [ComponentStatus("kafka-1", "running", 1, "127.0.0.1:9092", "ok")],
        "consumer_lag": [],
        "dead_letters": 0,
        "job_queue": [LaneQueue("interactive", 0, None), LaneQueue("bulk", 2, 65.0)],
        "alerts": [],
        "unavailable": {},
    }
    return StatusReport(**{**defaults, **parts})  # type: ignore[arg-type]


def test_status_says_what_it_could_not_read_and_shows_the_rest() -> None:
    shown = render(
        _report(
            consumer_lag=None,
            alerts=None,
            unavailable={
                "consumer_lag": "Kafka did not answer",
                "alerts": "alertmanager not running",
            },
        )
    )
    assert "consumer lag: unavailable (Kafka did not answer)" in shown
    assert "alerts: alertmanager not running" in shown
    assert "kafka-1" in shown
    assert "dead letters: none" in shown
    bulk = next(line for line in shown.splitlines() if line.startswith("bulk"))
    assert bulk.split() == ["bulk", "2", duration(65.0)]


def test_status_lists_alertmanager_alerts() -> None:
    raw = {
        "labels": {"alertname": "ConsumerLagHigh", "severity": "warning", "group": "sink"},
        "annotations": {"summary": "the sink is 5 minutes behind"},
        "startsAt": "2026-11-23T08:00:00.000Z",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "fingerprint": "0123456789abcdef",
    }
    alert = alert_of(raw)
    assert (alert.name, alert.severity, alert.state) == ("ConsumerLagHigh", "warning", "active")
    line = render(_report(alerts=[alert])).splitlines()[-1]
    assert line.split()[:4] == ["ConsumerLagHigh", "warning", "active", raw["startsAt"]]
    assert line.endswith("the sink is 5 minutes behind")
