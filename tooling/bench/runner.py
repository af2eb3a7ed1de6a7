"""Runs every measurement against the running stack and writes the results.

Results go to ``bench/results/<UTC time>.json`` (with the machine's core
count and CPU steal during the run) and a table in ``docs/performance.md``
with the SPEC's targets beside them.
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from base.settings import PlatformSettings
from stream_processors.writer import prepare_connection
from tooling.bench import dashboard, historical, measure
from tooling.bench.report import write_markdown
from tooling.bench.workload import Bodies
from tooling.local_stack.stack import LocalStack

Say = Callable[[str], None]


async def run_bench(
    repo: Path,
    say: Say,
    *,
    quick: bool = False,
) -> Path:
    settings = PlatformSettings()
    stack = LocalStack(settings, say=say)
    gateway, api = stack.services.gateway.address, stack.services.historical_api.address
    await stack.up(services=True)
    token = await stack.demo_token()
    run = uuid.uuid4().hex[:6]
    bodies = Bodies(run)
    steal_before = _cpu_steal()
    results: dict[str, Any] = {}
    pool = await asyncpg.create_pool(
        settings.effective_database_url, min_size=1, max_size=4, init=prepare_connection
    )
    try:
        async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
            target = measure.Target(client, token, pool)
            say("gateway latency: sequential 7,500-reading POSTs ...")
            results["gateway_7500"] = await measure.gateway_latency(
                target, bodies, 20 if quick else 60
            )
            say(f"  {results['gateway_7500']}")
            say("sustained ingest: HTTP -> Kafka -> TimescaleDB ...")
            results["sustained"] = await measure.sustained(
                target, bodies, seconds=10 if quick else 30, concurrency=4
            )
            say(f"  {results['sustained']}")
            half = results["sustained"]["stored_per_second"] / 2
            say(f"freshness at half that rate ({half:,.0f} readings/s) ...")
            results["freshness"] = await measure.freshness(
                target, bodies, rate=half, seconds=10 if quick else 20
            )
            say(f"  {results['freshness']}")

            backlog = 150_000 if quick else 450_000
            say(f"catch-up: stopping the processors, posting a {backlog:,}-reading backlog ...")
            stack.services.processors.process(stack.home).stop()
            ids = await measure.backlog(target, bodies, backlog)
            await stack.up(services=True)
            results["catch_up"] = await measure.catch_up(target, ids, len(ids) * bodies.per_request)
            say(f"  {results['catch_up']}")
            say("raw COPY-with-dedupe of the same volume, same database ...")
            results["raw_copy_dedupe"] = await measure.raw_copy_with_dedupe(pool, bodies, backlog)
            say(f"  {results['raw_copy_dedupe']}")
            user_token = await stack.demo_user_token()
            await historical.ensure_year_of_data(client, token, pool, say)
            async with httpx.AsyncClient(base_url=api, timeout=300) as api_client:
                say("historical: one-year chart job, one station, auto resolution ...")
                results["chart_year"] = await historical.chart_year(api_client, user_token)
                say(f"  {results['chart_year']}")
                say("dashboard: Load to a year drawn, 8 sensors, in Chromium ...")
                results["dashboard_year"] = await dashboard.year_in_browser(api, user_token)
                say(f"  {results['dashboard_year']}")
                say("historical: raw export of 30 days ...")
                results["raw_export"] = await historical.raw_export(api_client, user_token)
                say(f"  {results['raw_export']}")
            results["catch_up"]["ratio_to_raw"] = round(
                results["catch_up"]["readings_per_second"]
                / results["raw_copy_dedupe"]["readings_per_second"],
                3,
            )
    finally:
        await pool.close()
    document = {
        "run": run,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git(repo, "rev-parse", "--short", "HEAD"),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "cpu_steal_percent": _steal_percent(steal_before, _cpu_steal()),
        },
        "quick": quick,
        "results": results,
    }
    out = repo / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    write_markdown(repo / "docs" / "performance.md", document, out.relative_to(repo))
    return out


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_steal() -> tuple[int, int]:
    """(steal, total) jiffies from /proc/stat: how much CPU the hypervisor took from us."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[7], sum(fields)


def _steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total, 1) if total else 0.0


def main(repo: Path, say: Say, quick: bool) -> Path:
    started = time.monotonic()
    out = asyncio.run(run_bench(repo, say, quick=quick))
    say(f"bench finished in {time.monotonic() - started:.0f} s: {out}")
    return out
