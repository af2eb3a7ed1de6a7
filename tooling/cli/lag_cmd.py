"""``scada lag``: how far each consumer group is behind, per partition."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

import typer

from base.kafka_operations import PartitionLag, consumer_lag, lag_by_group
from base.settings import PlatformSettings
from tooling.cli.output import AsJson, duration, table, to_json
from tooling.cli.watch import Interval, Watch, watch

NO_GROUPS = "no consumer groups have committed offsets"


def lag(
    group: Annotated[
        list[str] | None,
        typer.Option("--group", "-g", metavar="GROUP", help="Only this group (repeatable)."),
    ] = None,
    all_partitions: Annotated[
        bool, typer.Option("--all", help="Also partitions with no lag (--json lists them all).")
    ] = False,
    as_json: AsJson = False,
    watching: Watch = False,
    interval: Interval = 2.0,
) -> None:
    """Consumer lag per group and partition, in messages and seconds.

    Seconds are the age of the oldest message a group has not consumed yet. Every
    partition of a topic a group reads is counted, also those it never committed
    (shown with committed "-"), from the start of the partition's log.
    """
    bootstrap = PlatformSettings().effective_kafka_bootstrap

    def render(rows: list[PartitionLag]) -> str:
        if as_json:
            return to_json([dataclasses.asdict(r) for r in rows], compact=watching)
        return lag_text(rows, all_partitions=all_partitions)

    if watching:
        watch(
            lambda: consumer_lag(bootstrap, group),
            render,
            interval=interval,
            title="scada lag",
            json_lines=as_json,
        )
        return
    typer.echo(render(asyncio.run(consumer_lag(bootstrap, group))))


def lag_text(rows: list[PartitionLag], *, all_partitions: bool) -> str:
    """The lagging partitions (every one with ``all_partitions``), then a summary line."""
    if not rows:
        return NO_GROUPS
    groups = lag_by_group(rows)
    behind = sum(g.messages for g in groups)
    summary = f"{_count(len(groups), 'group')}, {_count(behind, 'message')} behind in all"
    if behind:
        summary += f"; the oldest unconsumed is {duration(max(g.max_seconds for g in groups))} old"
    elif not all_partitions:
        summary += " (--all lists every partition)"
    shown = rows if all_partitions else [r for r in rows if r.messages]
    if not shown:
        return summary
    lines = table(
        ("group", "topic", "partition", "committed", "end", "lag", "lag_seconds"),
        [
            (r.group, r.topic, r.partition, r.committed, r.end, r.messages, f"{r.seconds:.1f}")
            for r in shown
        ],
    )
    return f"{lines}\n{summary}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
