"""Durations written the way operators write them: ``10s``, ``5m``, ``1h``, ``365d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration(text: str) -> timedelta:
    """``"10s"`` → 10 seconds. Raises ``ValueError`` naming the accepted forms."""
    match = _PATTERN.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration like 500ms, 10s, 5m, 1h, 365d or 2w")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])
