"""``scada stack up | down | status``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated

import typer

from base.settings import PlatformSettings
from tooling.cli.output import say, table
from tooling.local_stack.stack import LocalStack

app = typer.Typer(help="Run the embedded local Kafka and TimescaleDB.", no_args_is_help=True)


@app.command()
def up(
    brokers: Annotated[
        int, typer.Option(min=1, max=3, help="Kafka brokers: 1, or 3 for a real cluster.")
    ] = 1,
    services: Annotated[
        bool, typer.Option(help="Also run the gateway and the stream processors.")
    ] = False,
    simulate: Annotated[
        bool, typer.Option(help="Also run a small station simulator (implies --services).")
    ] = False,
) -> None:
    """Install what is missing and start Kafka and TimescaleDB (idempotent)."""
    if brokers == 2:
        raise typer.BadParameter("use 1 or 3 brokers (a KRaft quorum wants an odd count)")
    stack = LocalStack(PlatformSettings(), say=say)
    started = asyncio.run(stack.up(brokers=brokers, services=services, simulate=simulate))
    say(f"started: {', '.join(started)}" if started else "everything was already running")
    _print_status(stack)
    if services or simulate:
        token = asyncio.run(stack.demo_token())
        user_token = asyncio.run(stack.demo_user_token())
        at = stack.services
        typer.echo(
            "\n"
            f"dashboard    {at.historical_api.address}/  (sign in with the demo user token below)\n"
            f"gateway      {at.gateway.address}  (POST /v1/readings, /openapi.json, /metrics)\n"
            f"processors   {at.processors.health_url}\n"
            f"history API  {at.historical_api.address}  (/v1/historical-jobs, /v1/events)\n"
            f"workers      {at.historical_workers.health_url}\n"
            f"logs         {stack.home / 'logs'}\n"
            "demo user token for the dashboard and history API (org 'demo', all stations):\n"
            f"{user_token}\n"
            "demo write token (org 'demo', all its stations):\n"
            f"{token}"
        )


@app.command()
def down() -> None:
    """Stop every process the stack started."""
    stopped = LocalStack(PlatformSettings(), say=say).down()
    say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Each component with its pid, address and health."""
    stack = LocalStack(PlatformSettings(), say=say)
    if as_json:
        rows = asyncio.run(stack.status())
        typer.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    _print_status(stack)


def _print_status(stack: LocalStack) -> None:
    rows = asyncio.run(stack.status())
    typer.echo(
        table(
            ("component", "state", "pid", "address", "health"),
            [(r.name, r.state, r.pid, r.address, r.health) for r in rows],
        )
    )
