"""``scada soak``: run the local pipeline under steady load and check nothing creeps."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from base.errors import StackError
from base.settings import PlatformSettings
from schemas.groups import SINK_GROUP
from tooling.cli.output import AsJson, print_json, say
from tooling.local_stack.stack import LocalStack
from tooling.soak import SoakTarget, soak

FALLBACK_RATE = 5000.0


def soak_command(
    minutes: Annotated[float, typer.Option(min=0.1, help="How long to run.")] = 10.0,
    rate: Annotated[
        float | None,
        typer.Option(help="Readings per second (default: half the last bench's sustained rate)."),
    ] = None,
    repo: Annotated[Path, typer.Option(help="Repository root for results.")] = Path(),
    as_json: AsJson = False,
) -> None:
    """Load the running stack; report RSS, lag and errors.

    Needs the services running (`scada stack up --services`).
    """
    settings = PlatformSettings()
    stack = LocalStack(settings, say=say)
    pids = {s.name: s.process(stack.home).pid() for s in stack.services.all()}
    missing = [name for name, pid in pids.items() if pid is None]
    if missing:
        raise StackError(
            f"not running: {', '.join(missing)}; start them: scada stack up --services"
        )
    chosen = rate or _half_sustained(repo.resolve() / "bench" / "results")
    target = SoakTarget(
        gateway_url=stack.services.gateway.address,
        api_url=stack.services.historical_api.address,
        write_token=asyncio.run(stack.demo_token()),
        user_token=asyncio.run(stack.demo_user_token()),
        kafka_bootstrap=stack.kafka_bootstrap(),
        sink_group=SINK_GROUP,
        processes={name: pid for name, pid in pids.items() if pid is not None},
        logs=[s.process(stack.home).logfile for s in stack.services.all()],
    )
    say(f"soak: {minutes:g} min at {chosen:,.0f} readings/s")
    report = asyncio.run(soak(target, minutes=minutes, rate=chosen, say=say))
    result = report.as_dict()
    out = repo.resolve() / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    if as_json:
        print_json({"path": path, **result})
    else:
        typer.echo(json.dumps(result, indent=2))
        say(f"written: {path}")
    if result["problems"]:
        raise typer.Exit(1)


def _half_sustained(results: Path) -> float:
    """Half of the newest bench run's sustained stored rate (SPEC: soak at half the rate)."""
    for path in sorted(results.glob("2*.json"), reverse=True):
        sustained = json.loads(path.read_text()).get("results", {}).get("sustained", {})
        if sustained.get("stored_per_second"):
            return float(sustained["stored_per_second"]) / 2
    return FALLBACK_RATE
