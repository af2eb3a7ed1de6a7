"""``scada jobs list | show | cancel | retry``: historical jobs, for operators."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import typer

from base.kafka_clients import durable_producer
from base.settings import PlatformSettings
from historical_service import jobs
from tooling.cli.output import table

app = typer.Typer(help="Historical jobs (all users; operators only).", no_args_is_help=True)
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


async def _with_pool(work: Any) -> Any:
    pool = await asyncpg.create_pool(
        PlatformSettings().effective_database_url, min_size=1, max_size=2
    )
    try:
        return await work(pool)
    finally:
        await pool.close()


def _plain(job: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, UUID | datetime) else v) for k, v in job.items()}


@app.command("list")
def list_(limit: Annotated[int, typer.Option(min=1)] = 50, as_json: AsJson = False) -> None:
    """The newest jobs."""
    rows = asyncio.run(_with_pool(lambda pool: jobs.list_jobs(pool, None, limit)))
    if as_json:
        typer.echo(json.dumps([_plain(j) for j in rows], indent=2))
        return
    typer.echo(
        table(
            ("job_id", "status", "lane", "progress", "rows", "stations", "resolution", "queued_at"),
            [
                (
                    j["job_id"],
                    j["status"],
                    j["lane"],
                    f"{j['progress']:.0%}",
                    j["rows_done"],
                    ",".join(j["stations"]),
                    j["resolution"],
                    f"{j['queued_at']:%Y-%m-%d %H:%M:%S}",
                )
                for j in rows
            ],
        )
    )


@app.command()
def show(job_id: UUID, as_json: AsJson = False) -> None:
    """One job in full."""
    job = asyncio.run(_with_pool(lambda pool: jobs.get_job(pool, job_id)))
    if job is None:
        typer.echo("no such job", err=True)
        raise typer.Exit(1)
    plain = _plain(job)
    if as_json:
        typer.echo(json.dumps(plain, indent=2))
    else:
        typer.echo(table(("field", "value"), list(plain.items())))


@app.command()
def cancel(job_id: UUID) -> None:
    """Ask a job to stop (its worker stops within a second); a queued job is cancelled now."""

    status = asyncio.run(_with_pool(lambda pool: jobs.operator_cancel(pool, job_id)))
    if status is None:
        typer.echo("no such job", err=True)
        raise typer.Exit(1)
    typer.echo(f"cancel requested; status {status}")


@app.command()
def retry(job_id: UUID) -> None:
    """Queue a failed or cancelled job again, with the same parameters."""
    settings = PlatformSettings()

    async def run(pool: asyncpg.Pool) -> str:
        command = await jobs.requeue(pool, job_id)
        if command is None:
            return "only a failed or cancelled job can be retried"
        producer = durable_producer(settings.effective_kafka_bootstrap, client_id="scada-cli")
        await producer.start()
        try:
            topic = settings.topics.historical_requests
            await producer.send_and_wait(
                topic.name, topic.serialize(command), key=str(job_id).encode()
            )
        finally:
            await producer.stop()
        return "queued again"

    typer.echo(asyncio.run(_with_pool(run)))
