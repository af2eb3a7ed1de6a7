"""How the CLI prints: results on stdout (tables, or JSON with ``--json``), progress on stderr."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON on stdout).")]


def say(message: str) -> None:
    """A progress line, on stderr so that stdout stays machine-readable."""
    typer.echo(f"==> {message}", err=True)


def print_json(value: object, *, compact: bool = False) -> None:
    """``value`` as JSON on stdout: one line when ``compact`` (a ``--watch`` frame)."""
    typer.echo(to_json(value, compact=compact))


def to_json(value: object, *, compact: bool = False) -> str:
    return json.dumps(value, default=_plain, indent=None if compact else 2)


def _plain(value: object) -> Any:
    if isinstance(value, UUID | Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[["-" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def abbreviate(items: Sequence[str], shown: int = 3) -> str:
    """``a,b,c`` for a short list, ``a,b,c +4`` for a longer one: a table cell stays narrow."""
    head = ",".join(items[:shown])
    return f"{head} +{len(items) - shown}" if len(items) > shown else head


def duration(seconds: float) -> str:
    """``42s``, ``7m05s``, ``3h20m``, ``2d04h``: precise when small, short when large."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
