"""Debian's Chromium, as the browser tests and the dashboard benchmark launch it.

Playwright's own browser download does not work on these machines; Debian's
``chromium`` package does. As root and with no way out to the internet it
needs no sandbox and none of the background services that phone home.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_options() -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch``."""
    return {"executable_path": str(CHROMIUM), "headless": True, "args": list(CHROMIUM_FLAGS)}
