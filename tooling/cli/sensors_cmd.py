"""``scada sensors list | set | remove``: an organisation's sensor catalogue."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import typer
from pydantic import ValidationError

from base.settings import PlatformSettings
from base.storage.catalogue import catalogue_of, remove_sensor, set_sensor
from base.storage.database import connect, prepare_database
from schemas.readings import IDENTIFIER_PATTERN
from schemas.sensors import KINDS, Sensor, SensorSpec
from tooling.cli.output import AsJson, print_json, table

app = typer.Typer(help="The sensor catalogue: units, kinds, valid ranges.", no_args_is_help=True)

Org = Annotated[str, typer.Option(help="The organisation whose catalogue it is.")]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@app.command("list")
def list_command(org: Org, as_json: AsJson = False) -> None:
    """The organisation's catalogue: its own entries, else the defaults."""

    async def run() -> list[Sensor]:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await catalogue_of(conn, org)
        finally:
            await conn.close()

    found = asyncio.run(run())
    if as_json:
        print_json([s.model_dump(mode="json") for s in found])
        return
    rows = [
        (
            s.name,
            s.display_name,
            s.unit,
            s.kind,
            _number(s.valid_min),
            _number(s.valid_max),
            s.decimals,
            s.source,
        )
        for s in found
    ]
    headers = ("sensor", "display name", "unit", "kind", "min", "max", "decimals", "source")
    typer.echo(table(headers, rows))


@app.command("set")
def set_command(
    name: Annotated[str, typer.Argument(metavar="SENSOR", help="The sensor's name in readings.")],
    org: Org,
    display_name: Annotated[str, typer.Option(help="What people read.")],
    unit: Annotated[str, typer.Option(help="e.g. °C, mm, hPa.")] = "",
    kind: Annotated[
        str, typer.Option(help=f"How it aggregates: {', '.join(KINDS)}.")
    ] = "instantaneous",
    valid_min: Annotated[float | None, typer.Option(help="Lowest plausible value.")] = None,
    valid_max: Annotated[float | None, typer.Option(help="Highest plausible value.")] = None,
    decimals: Annotated[int, typer.Option(help="Decimal places shown.")] = 1,
    as_json: AsJson = False,
) -> None:
    """Create or replace the organisation's entry for SENSOR (it overrides the default)."""
    if not re.fullmatch(IDENTIFIER_PATTERN, name):
        typer.echo("refused: a sensor name is 1-64 letters, digits, '_', '.' or '-'", err=True)
        raise typer.Exit(1)
    try:
        spec = SensorSpec.model_validate(
            {
                "display_name": display_name,
                "unit": unit,
                "kind": kind,
                "valid_min": valid_min,
                "valid_max": valid_max,
                "decimals": decimals,
            }
        )
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()
        )
        typer.echo(f"refused: {reasons}", err=True)
        raise typer.Exit(1) from None

    async def run() -> Sensor:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            await set_sensor(conn, org, name, spec)
            return next(s for s in await catalogue_of(conn, org) if s.name == name)
        finally:
            await conn.close()

    entry = asyncio.run(run())
    if as_json:
        print_json(entry.model_dump(mode="json"))
    else:
        typer.echo(
            f"{org}: {name} = {entry.display_name} ({entry.unit or 'no unit'}, {entry.kind})"
        )


@app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(metavar="SENSOR")], org: Org, as_json: AsJson = False
) -> None:
    """Remove the organisation's own entry for SENSOR (the default applies again)."""

    async def run() -> bool:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await remove_sensor(conn, org, name)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        typer.echo(f"organisation {org} has no entry of its own for {name}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"org": org, "name": name, "removed": True})
    else:
        typer.echo(f"{org}: {name} removed; the default applies")
