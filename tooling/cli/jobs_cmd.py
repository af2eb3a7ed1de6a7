"""``scada jobs list | show | cancel | retry``: historical jobs, for operators.

A job is named by its id or by a unique prefix of it, as git names commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
import typer

from base.errors import ScadaError
from base.kafka_clients import durable_producer
from base.settings import PlatformSettings
from historical_service import jobs
from historical_service.users import names_of
from tooling.cli.database import database_pool
from tooling.cli.job_refs import JobRef, UnknownJob, resolve
from tooling.cli.output import AsJson, abbreviate, print_json, table

app = typer.Typer(help="Historical jobs (all users; operators only).", no_args_is_help=True)
SHORT_ID = 8  # characters of a job id the table shows; `jobs show` takes them back
T = TypeVar("T")


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, metavar="N", help="How many.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The newest jobs: whose, what they read, how far they are."""

    async def work(pool: asyncpg.Pool) -> list[dict[str, Any]]:
        rows = await jobs.list_jobs(pool, None, limit)
        names = await names_of(pool, [UUID(str(j["user_id"])) for j in rows])
        return [{**j, "user_name": names.get(UUID(str(j["user_id"])))} for j in rows]

    rows = _run(work)
    if as_json:
        print_json(rows)
    elif not rows:
        typer.echo("no historical jobs yet")
    else:
        typer.echo(jobs_table(rows))


_LIST_HEADERS = (
    "job",
    "status",
    "lane",
    "user",
    "stations",
    "sensors",
    "range (UTC)",
    "resolution",
    "progress",
    "rows",
    "queued_at",
)


def jobs_table(rows: list[dict[str, Any]]) -> str:
    """``jobs list``'s table: one job a line, ids cut to :data:`SHORT_ID` characters."""
    return table(
        _LIST_HEADERS,
        [
            (
                str(j["job_id"])[:SHORT_ID],
                j["status"],
                j["lane"],
                j.get("user_name") or str(j["user_id"])[:SHORT_ID],
                abbreviate(j["stations"]),
                abbreviate(j["sensors"]),
                f"{_minute(j['range_start'])}..{_minute(j['range_end'])}",
                j["resolution"],
                f"{j['progress']:.0%}",
                f"{j['rows_done']:,}",
                f"{j['queued_at']:%Y-%m-%d %H:%M:%S}",
            )
            for j in rows
        ],
    )


@app.command()
def show(job: JobRef, as_json: AsJson = False) -> None:
    """One job in full."""

    async def work(pool: asyncpg.Pool) -> dict[str, Any] | None:
        found = await jobs.get_job(pool, await resolve(pool, job))
        if found is None:
            return None
        names = await names_of(pool, [UUID(str(found["user_id"]))])
        return {**found, "user_name": names.get(UUID(str(found["user_id"])))}

    found = _run(work)
    if found is None:
        raise UnknownJob(f"no such job: {job}")
    if as_json:
        print_json(found)
    else:
        typer.echo(table(("field", "value"), [(k, _cell(v)) for k, v in found.items()]))


@app.command()
def cancel(job: JobRef, as_json: AsJson = False) -> None:
    """Ask a job to stop; a queued job is cancelled at once.

    A running job's worker stops within a second.
    """

    async def work(pool: asyncpg.Pool) -> tuple[UUID, jobs.CancelOutcome | None]:
        job_id = await resolve(pool, job)
        return job_id, await jobs.operator_cancel(pool, job_id)

    job_id, outcome = _run(work)
    if outcome is None:
        raise UnknownJob(f"no such job: {job}")
    if not outcome.requested:
        typer.echo(
            f"job {job_id} has already ended ({outcome.status}): nothing to cancel", err=True
        )
        raise typer.Exit(1)
    if as_json:
        print_json({"job_id": job_id, "cancel_requested": True, "status": outcome.status})
    else:
        typer.echo(f"job {job_id}: cancel requested; status {outcome.status}")


@app.command()
def retry(job: JobRef, as_json: AsJson = False) -> None:
    """Queue a failed or cancelled job again, with the same parameters."""
    settings = PlatformSettings()

    async def work(pool: asyncpg.Pool) -> tuple[UUID, bool]:
        job_id = await resolve(pool, job)
        command = await jobs.requeue(pool, job_id)
        if command is None:
            return job_id, False
        producer = durable_producer(settings.effective_kafka_bootstrap, client_id="scada-cli")
        await producer.start()
        try:
            topic = settings.topics.historical_requests
            await producer.send_and_wait(
                topic.name, topic.serialize(command), key=str(job_id).encode()
            )
        finally:
            await producer.stop()
        return job_id, True

    job_id, queued = _run(work)
    if not queued:
        raise ScadaError(f"job {job_id}: only a failed or cancelled job can be retried")
    if as_json:
        print_json({"job_id": job_id, "status": "queued"})
    else:
        typer.echo(f"job {job_id}: queued again")


def _run(work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        async with database_pool(PlatformSettings().effective_database_url) as pool:
            return await work(pool)

    return asyncio.run(run())


def _minute(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"


def _cell(value: object) -> object:
    return ",".join(value) if isinstance(value, list) else value
