"""Plain-text tables and progress lines for the CLI."""

from __future__ import annotations

from collections.abc import Sequence

import typer


def say(message: str) -> None:
    """A progress line, on stderr so that stdout stays machine-readable."""
    typer.echo(f"==> {message}", err=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[["-" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )
