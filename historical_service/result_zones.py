"""A result's CSV with its times in another zone than UTC (``?time_zone=`` on a download).

Result files keep UTC instants with their offset (``2026-12-01T03:00:00+00:00``): one
file serves every user who asks the same question. A user who wants their own wall
clock gets each row's time (the second cell: ``ts`` or ``bucket``) rewritten while the
file streams, with that zone's offset (``2026-12-01T10:00:00+07:00``), so a value is
never ambiguous across a DST change.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

_UTC = b"+00:00"
_MEMO_MAX = 100_000
"""Minutes remembered per download (a few MB at most)."""


def _moved(instant: bytes, zone: ZoneInfo) -> bytes:
    return datetime.fromisoformat(instant.decode()).astimezone(zone).isoformat().encode()


def rezone_lines(
    lines: list[bytes], zone: ZoneInfo, memo: dict[bytes, tuple[bytes, bytes]] | None = None
) -> list[bytes]:
    """``lines`` (CSV rows, no header) with the second cell moved to ``zone``.

    A row's first cell is a station id and its second an instant, neither ever quoted
    nor holding a comma (the result's cells are identifiers, instants and numbers).
    Since 1970 every zone's offset is whole minutes and changes on a minute, so a UTC
    instant ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`` moves by its minute: ``memo`` keeps
    each minute's wall-clock prefix and offset, and only the seconds are copied.
    """
    memo = {} if memo is None else memo
    out = []
    for line in lines:
        cells = line.split(b",", 2)
        if len(cells) < 2 or not cells[1]:
            out.append(line)
            continue
        instant = cells[1]
        if instant.endswith(_UTC) and len(instant) >= 25 and instant[16:17] == b":":
            minute = instant[:16]
            known = memo.get(minute)
            if known is None:
                whole = _moved(minute + b":00" + _UTC, zone)
                known = (whole[:16], whole[19:])
                if len(memo) < _MEMO_MAX:
                    memo[minute] = known
            moved = known[0] + instant[16:-6] + known[1]
        else:
            moved = _moved(instant, zone)
        cells[1] = moved
        out.append(b",".join(cells))
    return out


class Rezoner:
    """Feeds a CSV file's chunks through :func:`rezone_lines`; the header passes as it is."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.memo: dict[bytes, tuple[bytes, bytes]] = {}
        self.rest = b""
        self.header_done = False

    def feed(self, chunk: bytes) -> bytes:
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()  # an unfinished line waits for the next chunk
        head: list[bytes] = []
        if not self.header_done and lines:
            head = [lines.pop(0)]
            self.header_done = True
        moved = rezone_lines(lines, self.zone, self.memo)
        return b"".join(line + b"\n" for line in head + moved)

    def end(self) -> bytes:
        if not self.rest:
            return b""
        last, self.rest = self.rest, b""
        if not self.header_done:
            self.header_done = True
            return last
        return rezone_lines([last], self.zone, self.memo)[0]
