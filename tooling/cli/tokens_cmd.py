"""``scada tokens create | list | revoke``: write tokens for stations."""

from __future__ import annotations

import asyncio
from dataclasses import astuple
from typing import Annotated
from uuid import UUID

import typer

from base.settings import PlatformSettings
from base.storage.database import connect, prepare_database
from ingest_gateway.tokens import TokenRow, create_token, list_tokens, revoke_token
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
def list_command() -> None:
    """Tokens (never their secrets)."""

    async def run() -> list[TokenRow]:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await list_tokens(conn)
        finally:
            await conn.close()

    headers = ("token_id", "org", "name", "stations", "created_at", "revoked_at")
    typer.echo(table(headers, [astuple(row) for row in asyncio.run(run())]))


@app.command()
def revoke(
    token_id: Annotated[UUID, typer.Argument(help="The token's id (not its secret).")],
) -> None:
    """Revoke a token; gateways stop accepting it within their refresh time (5 s by default)."""

    async def run() -> bool:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await revoke_token(conn, token_id)
        finally:
            await conn.close()

    done = asyncio.run(run())
    typer.echo("revoked" if done else "no such active token", err=not done)
    if not done:
        raise typer.Exit(1)
