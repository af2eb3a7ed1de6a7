"""``scada bench``: measure the SPEC's targets on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tooling.bench.runner import main
from tooling.cli.output import say


def bench(
    quick: Annotated[bool, typer.Option(help="Shorter runs (about 2 minutes).")] = False,
    repo: Annotated[Path, typer.Option(help="Repository root for results.")] = Path(),
) -> None:
    """Run every benchmark; write bench/results/*.json and docs/performance.md."""
    main(repo.resolve(), say, quick)
