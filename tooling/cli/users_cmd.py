"""``scada users create``: dashboard users with station grants and a maximum range."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

import typer

from base.settings import PlatformSettings
from base.storage.database import connect, prepare_database
from historical_service.users import (
    ROLES,
    create_user,
    revoke_user,
    set_language,
    set_time_zone,
)
from schemas.users import LANGUAGES
from tooling.cli.output import AsJson, print_json

app = typer.Typer(help="Dashboard and historical-API users.", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A unique user name.")],
    org: Annotated[str, typer.Option(help="The user's organisation.")],
    stations: Annotated[str, typer.Option(help="Comma-separated station ids, or '*'.")],
    max_range_days: Annotated[
        int, typer.Option(min=1, max=36_600, help="Longest range per job.")
    ] = 400,
    role: Annotated[
        list[str] | None,
        typer.Option(help=f"A role ({', '.join(ROLES)}); repeat for more."),
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option(help="Where the dashboard shows times (IANA, e.g. Asia/Jakarta)."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            help=f"The dashboard's language ({', '.join(LANGUAGES)}); else the browser's."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create a user; their bearer token is the last line printed (it is not stored).

    A listed station nobody owns yet is registered to ORG (as a token for it would);
    one registered to another organisation is refused. `--role operator` lets the
    user see the dashboard's Operations view (alerts, lag, rates, dead letters).
    """
    roles = tuple(role or ())
    listed = [s.strip() for s in stations.split(",") if s.strip()]

    async def run() -> tuple[UUID, str]:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            return await create_user(
                conn,
                name=name,
                org_id=org,
                stations=listed,
                max_range_days=max_range_days,
                roles=roles,
                time_zone=time_zone,
                language=language,
            )
        finally:
            await conn.close()

    try:
        user_id, secret = asyncio.run(run())
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            {
                "user_id": user_id,
                "name": name,
                "org": org,
                "stations": listed,
                "max_range_days": max_range_days,
                "roles": sorted(set(roles)),
                "token": secret,
            }
        )
        return
    roles_note = f", roles {','.join(sorted(set(roles)))}" if roles else ""
    typer.echo(f"user {name} (org {org}, stations {','.join(listed)}{roles_note})")
    typer.echo(secret)


@app.command("time-zone")
def time_zone_command(
    zone: Annotated[str, typer.Argument(metavar="ZONE", help="An IANA name, e.g. Asia/Jakarta.")],
    user: Annotated[str | None, typer.Option(help="This user's own zone.")] = None,
    org: Annotated[
        str | None, typer.Option(help="The organisation's default (users without their own).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Set where the dashboard shows times: a user's own zone, or an organisation's default."""
    if (user is None) == (org is None):
        typer.echo("refused: name --user or --org (one of them)", err=True)
        raise typer.Exit(1)

    async def run() -> bool:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            return await set_time_zone(conn, user=user, org=org, time_zone=zone)
        finally:
            await conn.close()

    try:
        done = asyncio.run(run())
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    if not done:
        typer.echo(f"no such user: {user}", err=True)
        raise typer.Exit(1)
    whose = f"user {user}" if user else f"organisation {org}"
    if as_json:
        print_json({"user": user, "org": org, "time_zone": zone})
    else:
        typer.echo(f"{whose}: times shown in {zone}")


@app.command("language")
def language_command(
    language: Annotated[
        str, typer.Argument(metavar="LANGUAGE", help=f"One of {', '.join(LANGUAGES)}.")
    ],
    user: Annotated[str | None, typer.Option(help="This user's own language.")] = None,
    org: Annotated[
        str | None, typer.Option(help="The organisation's default (users without their own).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Set the dashboard's language (en English, id Bahasa Indonesia): a user's own, or an
    organisation's default. Without either, the page follows the browser's preference."""
    if (user is None) == (org is None):
        typer.echo("refused: name --user or --org (one of them)", err=True)
        raise typer.Exit(1)

    async def run() -> bool:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            return await set_language(conn, user=user, org=org, language=language)
        finally:
            await conn.close()

    try:
        done = asyncio.run(run())
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    if not done:
        typer.echo(f"no such user: {user}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"user": user, "org": org, "language": language})
    else:
        whose = f"user {user}" if user else f"organisation {org}"
        typer.echo(f"{whose}: the dashboard speaks {language}")


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user to revoke.")],
    as_json: AsJson = False,
) -> None:
    """Revoke a user: their token stops working and their open streams close (within 15 s)."""

    async def run() -> bool:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            return await revoke_user(conn, name)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        typer.echo(f"no such user: {name}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"name": name, "revoked": True})
    else:
        typer.echo(f"user {name} revoked")
