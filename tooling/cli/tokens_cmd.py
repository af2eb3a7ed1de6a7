"""``scada tokens create | list | revoke``: write tokens for stations."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from base.settings import PlatformSettings
from base.storage.database import connect, prepare_database
from ingest_gateway.tokens import create_token
from tooling.cli.output import table

app = typer.Typer(help="Write tokens for stations and data loggers.", no_args_is_help=True)


@app.command()
def create(
    org: Annotated[str, typer.Option(help="The organisation the token belongs to.")],
    stations: Annotated[
        str, typer.Option(help="Comma-separated station ids, or '*' for all of the org's.")
    ],
    name: Annotated[str, typer.Option(help="A label, e.g. the logger's name.")] = "",
) -> None:
    """Create a token; the token itself is the last line printed (it is not stored)."""
    listed = [s.strip() for s in stations.split(",") if s.strip()]
    if not listed:
        raise typer.BadParameter("name at least one station, or '*'")

    async def run() -> tuple[str, str]:
        url = PlatformSettings().effective_database_url
        await prepare_database(url)
        conn = await connect(url)
        try:
            token_id, secret = await create_token(conn, org_id=org, stations=listed, name=name)
            return str(token_id), secret
        finally:
            await conn.close()

    token_id, secret = asyncio.run(run())
    typer.echo(f"token {token_id} for org {org}, stations {','.join(listed)}", err=True)
    typer.echo(secret)


@app.command("list")
def list_tokens() -> None:
    """Tokens (never their secrets)."""

    async def run() -> list[tuple[object, ...]]:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            rows = await conn.fetch(
                "SELECT token_id, org_id, name, CASE WHEN all_stations THEN '*' ELSE "
                "array_to_string(stations, ',') END AS stations, created_at, revoked_at "
                "FROM ingest.tokens ORDER BY created_at"
            )
            return [tuple(r.values()) for r in rows]
        finally:
            await conn.close()

    headers = ("token_id", "org", "name", "stations", "created_at", "revoked_at")
    typer.echo(table(headers, asyncio.run(run())))


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
) -> None:
    """Revoke a token; gateways stop accepting it within their cache time (30 s)."""

    async def run() -> str:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return str(
                await conn.execute(
                    "UPDATE ingest.tokens SET revoked_at = now() "
                    "WHERE token_id = $1::uuid AND revoked_at IS NULL",
                    token_id,
                )
            )
        finally:
            await conn.close()

    done = asyncio.run(run()).endswith(" 1")
    typer.echo("revoked" if done else "no such active token", err=not done)
    if not done:
        raise typer.Exit(1)
