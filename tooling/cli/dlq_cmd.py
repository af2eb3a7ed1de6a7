"""``scada dlq list | show | replay | purge``: the readings dead-letter topic."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from base.kafka_operations import DeadLetter, dead_letters, purge, replay
from base.settings import PlatformSettings
from tooling.cli.output import say, table

app = typer.Typer(help="Readings that could not be stored (scada.readings.dlq.v1).")
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _letters(limit: int | None = None) -> list[DeadLetter]:
    settings = PlatformSettings()
    return asyncio.run(
        dead_letters(settings.effective_kafka_bootstrap, settings.topics.readings_dlq, limit)
    )


def _chosen(positions: list[str], everything: bool) -> list[DeadLetter]:
    if not positions and not everything:
        raise typer.BadParameter("name PARTITION:OFFSET positions (see `scada dlq list`) or --all")
    letters = _letters()
    if everything:
        return letters
    by_position = {d.position: d for d in letters}
    missing = [p for p in positions if p not in by_position]
    if missing:
        raise typer.BadParameter(f"not in the dead-letter topic: {', '.join(missing)}")
    return [by_position[p] for p in positions]


@app.command("list")
def list_(limit: Annotated[int, typer.Option(min=1)] = 100, as_json: AsJson = False) -> None:
    """The dead letters, oldest first: position, when, reason, station, ingest."""
    letters = _letters(limit)
    if as_json:
        typer.echo(
            json.dumps(
                [{"position": d.position, **d.letter.model_dump(mode="json")} for d in letters],
                indent=2,
            )
        )
        return
    typer.echo(
        table(
            ("position", "dead_lettered_at", "station_id", "ingest_id", "reason"),
            [
                (
                    d.position,
                    f"{d.letter.dead_lettered_at:%Y-%m-%d %H:%M:%S}",
                    d.letter.station_id,
                    d.letter.ingest_id,
                    d.letter.reason[:80],
                )
                for d in letters
            ],
        )
    )


@app.command()
def show(position: Annotated[str, typer.Argument(help="PARTITION:OFFSET")]) -> None:
    """One dead letter in full, with its original payload."""
    (letter,) = _chosen([position], everything=False)
    typer.echo(
        json.dumps({"position": letter.position, **letter.letter.model_dump(mode="json")}, indent=2)
    )


@app.command("replay")
def replay_(
    positions: Annotated[list[str] | None, typer.Argument(help="PARTITION:OFFSET ...")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
) -> None:
    """Publish dead letters' original messages to the readings topic again.

    For when the cause is fixed (a database that refused them, say). Payloads
    that are not valid readings messages are skipped; storing is idempotent,
    so replaying something already stored changes nothing.
    """
    settings = PlatformSettings()
    letters = _chosen(positions or [], everything)
    sent = asyncio.run(
        replay(settings.effective_kafka_bootstrap, settings.topics.readings, letters)
    )
    skipped = [d.position for d in letters if d.position not in set(sent)]
    say(f"replayed {len(sent)} message(s) to {settings.topics.readings.name}")
    if skipped:
        say(f"skipped (not valid readings messages): {', '.join(skipped)}")


@app.command("purge")
def purge_(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Delete the dead letters there are now (Kafka's DeleteRecords); later ones stay."""
    settings = PlatformSettings()
    letters = _letters()
    if not letters:
        say("the dead-letter topic is empty")
        return
    through: dict[int, int] = {}
    for d in letters:
        through[d.partition] = max(through.get(d.partition, -1), d.offset)
    if not yes:
        typer.confirm(
            f"Delete {len(letters)} dead letter(s) from {settings.topics.readings_dlq.name}?",
            abort=True,
        )
    count = asyncio.run(
        purge(settings.effective_kafka_bootstrap, settings.topics.readings_dlq, through)
    )
    say(f"deleted {count} dead letter(s)")
