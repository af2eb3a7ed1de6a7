"""``scada stack up | down | status``: the local pipeline, servers and services."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

import typer

from base.settings import PlatformSettings
from tooling.cli.output import AsJson, print_json, say, table
from tooling.local_stack.stack import ComponentStatus, LocalStack

app = typer.Typer(
    help="Run the pipeline locally: Kafka, TimescaleDB, services.",
    no_args_is_help=True,
)


@app.command()
def up(
    brokers: Annotated[
        int,
        typer.Option(min=1, max=3, metavar="N", help="Kafka brokers: 1, or 3 for a real cluster."),
    ] = 1,
    services: Annotated[
        bool,
        typer.Option(
            help="Also run the gateway, the stream processors, the historical API and workers."
        ),
    ] = False,
    simulate: Annotated[
        bool, typer.Option(help="Also run a small station simulator (implies --services).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Start Kafka and TimescaleDB, and with --services the rest.

    Installs what is missing first. Idempotent: only what is not running is
    started. Without --services this is what the tests need; `make up` passes
    --services --simulate.
    """
    if brokers == 2:
        raise typer.BadParameter("use 1 or 3 brokers (a KRaft quorum wants an odd count)")
    stack = LocalStack(PlatformSettings(), say=say)
    started = asyncio.run(stack.up(brokers=brokers, services=services, simulate=simulate))
    say(f"started: {', '.join(started)}" if started else "everything was already running")
    rows = asyncio.run(stack.status())
    addresses: dict[str, str] = {}
    if services or simulate:
        at = stack.services
        addresses = {
            "dashboard": f"{at.historical_api.address}/",
            "gateway": at.gateway.address,
            "processors": at.processors.health_url or "-",
            "history_api": at.historical_api.address,
            "workers": at.historical_workers.health_url or "-",
            "prometheus": stack.monitoring.prometheus_url,
            "alertmanager": stack.monitoring.alertmanager_url,
            "logs": str(stack.home / "logs"),
            "demo_user_token": asyncio.run(stack.demo_user_token()),
            "demo_token": asyncio.run(stack.demo_token()),
        }
    if as_json:
        print_json({"started": started, "components": rows, **addresses})
        return
    typer.echo(_status_table(rows))
    if addresses:
        typer.echo(
            "\n"
            f"dashboard    {addresses['dashboard']}  (sign in with the demo user token below)\n"
            f"gateway      {addresses['gateway']}  (POST /v1/readings, /openapi.json, /metrics)\n"
            f"processors   {addresses['processors']}\n"
            f"history API  {addresses['history_api']}  (/v1/historical-jobs, /v1/events)\n"
            f"workers      {addresses['workers']}\n"
            f"prometheus   {addresses['prometheus']}  (every target, rules, alerts)\n"
            f"alertmanager {addresses['alertmanager']}  (notifications: logs/alerts.jsonl)\n"
            f"logs         {addresses['logs']}\n"
            "demo user token for the dashboard and history API (org 'demo', all stations):\n"
            f"{addresses['demo_user_token']}\n"
            "demo write token (org 'demo', all its stations):\n"
            f"{addresses['demo_token']}"
        )


@app.command()
def down(as_json: AsJson = False) -> None:
    """Stop everything the stack started, services included.

    The services and the simulator first, then TimescaleDB and Kafka.
    """
    stopped = LocalStack(PlatformSettings(), say=say).down()
    if as_json:
        print_json({"stopped": stopped})
    else:
        typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status(as_json: AsJson = False) -> None:
    """Each component: state, pid, address and health.

    Kafka and TimescaleDB, and the services and simulator once started.
    `scada status` adds consumer lag, dead letters, the job queue and alerts.
    """
    rows = asyncio.run(LocalStack(PlatformSettings(), say=say).status())
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows])
    else:
        typer.echo(_status_table(rows))


def _status_table(rows: list[ComponentStatus]) -> str:
    return table(
        ("component", "state", "pid", "address", "health"),
        [(r.name, r.state, r.pid, r.address, r.health) for r in rows],
    )
