"""Durations written the way operators write them: ``10s``, ``5m``, ``1h``, ``365d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,9})?)\s*(ms|s|m|h|d|w)\s*$")

LONGEST = timedelta(days=3660)
"""No duration this project takes is longer (about ten years): past it, arithmetic on
timestamps would leave the calendar (``OverflowError``) somewhere downstream."""


def parse_duration(text: str, *, longest: timedelta = LONGEST) -> timedelta:
    """``"10s"`` → 10 seconds. Raises ``ValueError`` naming the accepted forms or the bound."""
    match = _PATTERN.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text[:40]!r} is not a duration like 500ms, 10s, 5m, 1h, 365d or 2w")
    seconds = float(match[1]) * _UNITS[match[2]]
    if seconds > longest.total_seconds():
        raise ValueError(f"{text.strip()!r} is longer than the limit of {longest.days} days")
    return timedelta(seconds=seconds)
