"""``--watch``: a command's output redrawn every few seconds until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer

from base.errors import ScadaError

T = TypeVar("T")

Watch = Annotated[bool, typer.Option("--watch", "-w", help="Redraw every --interval until Ctrl-C.")]
Interval = Annotated[
    float, typer.Option(min=0.5, metavar="SECONDS", help="Time between redraws with --watch.")
]

CLEAR = "\x1b[H\x1b[2J"  # cursor home, then erase the screen, as watch(1) does


def watch(
    fetch: Callable[[], Awaitable[T]],
    render: Callable[[T], str],
    *,
    interval: float,
    title: str,
    json_lines: bool,
) -> None:
    """Print ``render(await fetch())`` every ``interval`` seconds; Ctrl-C ends it cleanly.

    On a terminal each frame replaces the last, under a title line with the time.
    Piped, frames follow one another; with ``json_lines`` each frame is one line
    of JSON and nothing else, so ``| jq`` reads them as they come.
    """
    redraw = sys.stdout.isatty() and not json_lines

    async def loop() -> None:
        while True:
            started = time.monotonic()
            try:
                frame = render(await fetch())
            except ScadaError as exc:
                # A server away for a moment is something to watch through, not to stop at.
                typer.echo(f"error: {exc}; trying again in {interval:g} s", err=True)
            else:
                if json_lines:
                    typer.echo(frame)
                else:
                    stamp = f"{title}, every {interval:g} s: {datetime.now():%Y-%m-%d %H:%M:%S}"
                    if redraw:
                        typer.echo(f"{CLEAR}{stamp}  (Ctrl-C to stop)\n\n{frame}")
                    else:
                        typer.echo(f"{stamp}\n{frame}\n")
            # Reading takes a while too: subtract it, so frames come every `interval`.
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    # asyncio.run cancels the loop on Ctrl-C, so the clients' `finally` blocks close
    # them, then raises KeyboardInterrupt: the one way out, and not an error.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(loop())
