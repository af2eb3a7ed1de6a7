"""The ``scada`` command line: one typer app, one module per command group."""

from __future__ import annotations

import logging

import typer

from base.errors import ScadaError
from tooling.cli import (
    alarms_cmd,
    bench_cmd,
    dlq_cmd,
    jobs_cmd,
    lag_cmd,
    schemas_cmd,
    sensors_cmd,
    simulate_cmd,
    soak_cmd,
    stack_cmd,
    status_cmd,
    tokens_cmd,
    users_cmd,
)

app = typer.Typer(
    name="scada",
    help="scada-pipeline: SCADA telemetry over Kafka into TimescaleDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help, not Rich's panels: typer 0.29's panels print a value type for every
    # option, so each flag (and --help) read `<bool>` as if it took a value.
    rich_markup_mode=None,
)
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(users_cmd.app, name="users")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(dlq_cmd.app, name="dlq")
app.add_typer(sensors_cmd.app, name="sensors")
app.add_typer(alarms_cmd.app, name="alarms")
app.command("status")(status_cmd.status)
app.command("lag")(lag_cmd.lag)
app.command("simulate")(simulate_cmd.simulate)
app.command("bench")(bench_cmd.bench)
app.command("soak")(soak_cmd.soak_command)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ScadaError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
