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


def rezone_lines(lines: list[bytes], zone: ZoneInfo) -> list[bytes]:
    """``lines`` (CSV rows, no header) with the second cell moved to ``zone``.

    A row's first cell is a station id and its second an instant, neither ever quoted
    nor holding a comma (the result's cells are identifiers, instants and numbers).
    """
    out = []
    for line in lines:
        station, sep, rest = line.partition(b",")
        instant, sep2, tail = rest.partition(b",")
        if not sep or not instant:
            out.append(line)
            continue
        moved = datetime.fromisoformat(instant.decode()).astimezone(zone)
        out.append(b"".join((station, sep, moved.isoformat().encode(), sep2, tail)))
    return out


class Rezoner:
    """Feeds a CSV file's chunks through :func:`rezone_lines`; the header passes as it is."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.rest = b""
        self.header_done = False

    def feed(self, chunk: bytes) -> bytes:
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()  # an unfinished line waits for the next chunk
        head: list[bytes] = []
        if not self.header_done and lines:
            head = [lines.pop(0)]
            self.header_done = True
        return b"".join(line + b"\n" for line in head + rezone_lines(lines, self.zone))

    def end(self) -> bytes:
        if not self.rest:
            return b""
        last, self.rest = self.rest, b""
        if not self.header_done:
            self.header_done = True
            return last
        return rezone_lines([last], self.zone)[0]
