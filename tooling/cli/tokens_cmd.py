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
from tooling.cli.output import AsJson, print_json, table

app = typer.Typer(help="Write tokens for stations and data loggers.", no_args_is_help=True)


@app.command()
def create(
    org: Annotated[str, typer.Option(help="The organisation the token belongs to.")],
    stations: Annotated[
        str, typer.Option(help="Comma-separated station ids, or '*' for all of the org's.")
    ],
    name: Annotated[str, typer.Option(help="A label, e.g. the logger's name.")] = "",
    as_json: AsJson = False,
) -> None:
    """Create a token; the token itself is the last line printed (it is not stored)."""
    listed = [s.strip() for s in stations.split(",") if s.strip()]
    if not listed:
        raise typer.BadParameter("name at least one station, or '*'")
    if not org.strip():
        raise typer.BadParameter("name the organisation the token belongs to")

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
    if as_json:
        print_json(
            {"token_id": token_id, "org": org, "stations": listed, "name": name, "token": secret}
        )
        return
    typer.echo(f"token {token_id} for org {org}, stations {','.join(listed)}")
    typer.echo(secret)


@app.command("list")
def list_command(as_json: AsJson = False) -> None:
    """Tokens (never their secrets)."""

    async def run() -> list[TokenRow]:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await list_tokens(conn)
        finally:
            await conn.close()

    rows = asyncio.run(run())
    if as_json:
        print_json(rows)
    elif not rows:
        typer.echo("no tokens yet (scada tokens create)")
    else:
        headers = ("token_id", "org", "name", "stations", "created_at", "revoked_at")
        typer.echo(table(headers, [astuple(row) for row in rows]))


@app.command()
def revoke(
    token_id: Annotated[
        UUID, typer.Argument(metavar="TOKEN_ID", help="The token's id (not its secret).")
    ],
    as_json: AsJson = False,
) -> None:
    """Revoke a token; gateways stop accepting it within their refresh time (5 s by default)."""

    async def run() -> bool:
        conn = await connect(PlatformSettings().effective_database_url)
        try:
            return await revoke_token(conn, token_id)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        typer.echo(f"no such active token: {token_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"token_id": token_id, "revoked": True})
    else:
        typer.echo(f"token {token_id} revoked")
