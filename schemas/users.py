"""What a user chooses for their own dashboard: the language it speaks, the zone its
times are in (``PATCH /v1/me``, ``scada users language|time-zone``)."""

from __future__ import annotations

from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, field_validator

Language = Literal["en", "id"]
"""The dashboard's languages: English and Bahasa Indonesia (its string catalogues)."""
LANGUAGES: tuple[Language, ...] = ("en", "id")

_NOT_DISPLAY_ZONES = frozenset({"localtime", "Factory", "posixrules"})
"""Files of the zone database that browsers do not know as zones."""


@cache
def _zone_names() -> frozenset[str]:
    """The zone database's names (a scan of it: ~4 ms, so once per process)."""
    return frozenset(available_timezones())


def check_time_zone(name: str) -> None:
    """:class:`ValueError` unless ``name`` is an IANA time zone a browser can show times in
    (``UTC``, or an ``Area/Location`` name this machine's zone database has).

    The name is looked up in the database's list before it is opened: a folder of it
    (``America/Indiana``) would otherwise raise :class:`IsADirectoryError`, not "no zone".
    """
    refused = ValueError(f"{name!r} is no time zone (an IANA name, e.g. Asia/Jakarta)")
    if name == "UTC":
        return
    if "/" not in name or name in _NOT_DISPLAY_ZONES or name not in _zone_names():
        raise refused
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise refused from None


def check_language(code: str) -> None:
    """:class:`ValueError` unless the dashboard speaks ``code``."""
    if code not in LANGUAGES:
        raise ValueError(f"{code!r} is no language of the dashboard (one of {list(LANGUAGES)})")


class DisplaySettings(BaseModel):
    """``PATCH /v1/me``: the fields sent are changed, ``null`` goes back to the default
    (the organisation's, else the browser's language or UTC); fields left out stay."""

    model_config = ConfigDict(extra="forbid")
    language: Language | None = None
    time_zone: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _a_zone(cls, value: str | None) -> str | None:
        if value is not None:
            check_time_zone(value)
        return value
