"""``scada dlq list | show | replay | purge``: the readings dead-letter topic."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from base.kafka_operations import DeadLetter, dead_letters, purge, replay
from base.settings import PlatformSettings
from tooling.cli.output import AsJson, print_json, table

app = typer.Typer(
    help="Readings that could not be stored (scada.readings.dlq.v1).", no_args_is_help=True
)


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


def _plain(d: DeadLetter) -> dict[str, Any]:
    return {"position": d.position, **d.letter.model_dump(mode="json")}


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, metavar="N")] = 100, as_json: AsJson = False
) -> None:
    """The dead letters, oldest first.

    Position, when, station, ingest and reason of each.
    """
    letters = _letters(limit)
    if as_json:
        print_json([_plain(d) for d in letters])
    elif not letters:
        typer.echo("no dead letters")
    else:
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
def show(
    position: Annotated[
        str, typer.Argument(metavar="PARTITION:OFFSET", help="As `scada dlq list` shows it.")
    ],
    as_json: AsJson = False,
) -> None:
    """One dead letter in full, with its original payload.

    The payload is the record's bytes as the sink read them (base64 if not UTF-8).
    """
    (letter,) = _chosen([position], everything=False)
    plain = _plain(letter)
    if as_json:
        print_json(plain)
        return
    payload = plain.pop("payload")
    typer.echo(table(("field", "value"), list(plain.items())))
    typer.echo(f"\npayload ({plain['payload_encoding']}):\n{payload}")


@app.command("replay")
def replay_(
    positions: Annotated[
        list[str] | None,
        typer.Argument(metavar="PARTITION:OFFSET", help="Positions, as `scada dlq list` shows."),
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    as_json: AsJson = False,
) -> None:
    """Publish dead letters to the readings topic again.

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
    if as_json:
        print_json({"topic": settings.topics.readings.name, "replayed": sent, "skipped": skipped})
        return
    typer.echo(f"replayed {len(sent)} message(s) to {settings.topics.readings.name}")
    if skipped:
        typer.echo(f"skipped (not valid readings messages): {', '.join(skipped)}")


@app.command("purge")
def purge_(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    as_json: AsJson = False,
) -> None:
    """Delete the dead letters there are now.

    Kafka's DeleteRecords, up to the last letter read here: any arriving meanwhile stay.
    """
    settings = PlatformSettings()
    letters = _letters()
    if not letters:
        if as_json:
            print_json({"deleted": 0})
        else:
            typer.echo("no dead letters: nothing to delete")
        return
    through: dict[int, int] = {}
    for d in letters:
        through[d.partition] = max(through.get(d.partition, -1), d.offset)
    if not yes:
        typer.confirm(
            f"Delete {len(letters)} dead letter(s) from {settings.topics.readings_dlq.name}?",
            abort=True,
            err=True,  # the question is no part of the output (--json stays parseable)
        )
    count = asyncio.run(
        purge(settings.effective_kafka_bootstrap, settings.topics.readings_dlq, through)
    )
    if as_json:
        print_json({"deleted": count})
    else:
        typer.echo(f"deleted {count} dead letter(s)")
