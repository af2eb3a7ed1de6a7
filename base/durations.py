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
    """``"10s"`` → 10 seconds. Raises ``ValueError`` naming the accepted forms or the bound.

    A duration is at least a microsecond (the resolution of ``timedelta``).
    """
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"{text[:40]!r} is not a duration like 500ms, 10s, 5m, 1h, 365d or 2w")
    seconds = float(match[1]) * _UNITS[match[2]]
    try:  # compared as timedeltas: a float bound rounds, and a huge one overflows
        duration = timedelta(seconds=seconds)
        too_long = duration > longest
    except OverflowError:
        too_long = True
    if too_long:
        raise ValueError(f"{text.strip()!r} is longer than the limit of {longest.days} days")
    if duration <= timedelta(0):
        raise ValueError(f"{text.strip()!r} is not a positive duration (a microsecond at least)")
    return duration
