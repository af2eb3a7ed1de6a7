"""``scada bench``: measure the SPEC's targets on this machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tooling.bench.runner import main
from tooling.cli.output import AsJson, print_json, say


def bench(
    quick: Annotated[bool, typer.Option(help="Shorter runs (about 2 minutes).")] = False,
    repo: Annotated[Path, typer.Option(help="Repository root for results.")] = Path(),
    as_json: AsJson = False,
) -> None:
    """Measure the SPEC's targets on this machine.

    Writes bench/results/*.json and docs/performance.md.
    """
    written = main(repo.resolve(), say, quick)
    if as_json:
        print_json({"path": written, **json.loads(written.read_text())})
    else:
        typer.echo(f"results: {written}")
