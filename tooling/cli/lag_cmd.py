"""``scada lag``: how far each consumer group is behind, per partition."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated

import typer

from base.kafka_operations import consumer_lag
from base.settings import PlatformSettings
from tooling.cli.output import table


def lag(
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Only this group (repeatable).")
    ] = None,
    all_partitions: Annotated[
        bool, typer.Option("--all", help="Also partitions with no lag.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Consumer lag per group and partition, in messages and in seconds.

    Seconds are the age of the oldest message a group has not consumed yet.
    """
    rows = asyncio.run(consumer_lag(PlatformSettings().effective_kafka_bootstrap, group))
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    shown = rows if all_partitions else [r for r in rows if r.messages]
    typer.echo(
        table(
            ("group", "topic", "partition", "committed", "end", "lag", "lag_seconds"),
            [
                (r.group, r.topic, r.partition, r.committed, r.end, r.messages, f"{r.seconds:.1f}")
                for r in shown
            ],
        )
    )
    groups = {r.group for r in rows}
    behind = sum(r.messages for r in rows)
    typer.echo(f"{len(groups)} group(s), {behind:,} message(s) behind in all", err=True)
