"""``scada simulate``: realistic weather-station traffic through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Annotated

import httpx
import typer

from base.durations import parse_duration
from tooling.cli.output import AsJson, print_json, say
from tooling.local_stack.services import pipeline_services
from tooling.simulator.client import Poster, backfill, live
from tooling.simulator.weather import station_ids


def simulate(
    stations: Annotated[int, typer.Option(min=1, help="How many stations.")] = 10,
    rate: Annotated[float, typer.Option(min=0, help="Live readings per second (0: none).")] = 10,
    backfill_span: Annotated[
        str | None, typer.Option("--backfill", help="History to post first, e.g. 365d.")
    ] = None,
    interval: Annotated[str, typer.Option(help="Spacing of backfilled readings.")] = "10s",
    backfill_stations: Annotated[
        int | None,
        typer.Option(min=1, help="Backfill only the first N stations (default: all)."),
    ] = None,
    gateway: Annotated[
        str | None, typer.Option(help="Gateway base URL (default: the local stack's).")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Write token (default: $SCADA_TOKEN).", show_default=False)
    ] = None,
    prefix: Annotated[str, typer.Option(help="Station id prefix.")] = "AWS",
    as_json: AsJson = False,
) -> None:
    """Post readings like automatic weather stations.

    Live traffic, and a backfill beside it. Runs until the backfill is posted
    (with --rate 0) or until Ctrl-C; then says how many readings the gateway
    accepted.
    """
    secret = token or os.environ.get("SCADA_TOKEN")
    if not secret:
        raise typer.BadParameter("pass --token or set SCADA_TOKEN (scada tokens create prints one)")
    ids = station_ids(stations, prefix)
    base_url = gateway or pipeline_services().gateway.address

    posters: dict[str, Poster] = {}

    async def run() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            tasks = []
            if backfill_span:  # history and live traffic side by side, as stations catch up
                history = ids[:backfill_stations] if backfill_stations else ids
                span, spacing = parse_duration(backfill_span), parse_duration(interval)
                posters["backfill"] = Poster(client, secret)
                tasks.append(backfill(posters["backfill"], history, span, spacing, say))
            if rate > 0:
                say(f"live: {len(ids)} stations, about {rate:g} readings/s to {base_url}")
                posters["live"] = Poster(client, secret)
                tasks.append(live(posters["live"], ids, rate, say))
            await asyncio.gather(*tasks)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    accepted = {kind: poster.accepted for kind, poster in posters.items()}
    if as_json:
        print_json({"gateway": base_url, "stations": ids, "accepted": accepted})
    else:
        parts = ", ".join(f"{kind} {n:,}" for kind, n in accepted.items()) or "nothing to post"
        typer.echo(f"accepted {sum(accepted.values()):,} readings ({parts})")
