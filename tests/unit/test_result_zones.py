"""A CSV result rewritten into the user's zone as it streams: each row's time moves,
nothing else does, however the file is cut into chunks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from historical_service.result_zones import Rezoner, rezone_lines

FILE = (
    b"station_id,bucket,sensor,avg,min,max,count,value,kind,unit\n"
    b"AWS-1,2026-11-30T22:50:00+00:00,rain,0.2,0.2,0.2,1,0.2,accumulation,mm\n"
    b"AWS-1,2026-03-29T00:59:59.250000+00:00,temperature,1.5,1,2,3,1.5,instantaneous,\xc2\xb0C\n"
    b"AWS-1,2026-03-29T01:00:00+00:00,temperature,1.5,1,2,3,1.5,instantaneous,\xc2\xb0C\n"
)


def _whole(data: bytes, zone: str, cuts: list[int]) -> bytes:
    rezoner = Rezoner(ZoneInfo(zone))
    out, last = [], 0
    for cut in [*sorted(cuts), len(data)]:
        out.append(rezoner.feed(data[last:cut]))
        last = cut
    out.append(rezoner.end())
    return b"".join(out)


def test_each_rows_time_moves_to_the_zone_with_its_offset() -> None:
    lines = _whole(FILE, "Asia/Jakarta", []).split(b"\n")
    assert lines[0] == FILE.split(b"\n")[0]  # the header as it was
    assert lines[1] == b"AWS-1,2026-12-01T05:50:00+07:00,rain,0.2,0.2,0.2,1,0.2,accumulation,mm"
    # Berlin across the spring change: the same instants, each with its own offset.
    berlin = _whole(FILE, "Europe/Berlin", []).split(b"\n")
    assert berlin[2].startswith(b"AWS-1,2026-03-29T01:59:59.250000+01:00,temperature,")
    assert berlin[3].startswith(b"AWS-1,2026-03-29T03:00:00+02:00,temperature,")
    assert berlin[3].endswith(b",instantaneous,\xc2\xb0C")


@given(st.lists(st.integers(min_value=0, max_value=len(FILE)), max_size=8))
def test_the_chunks_a_file_is_read_in_change_nothing(cuts: list[int]) -> None:
    assert _whole(FILE, "Asia/Jakarta", cuts) == _whole(FILE, "Asia/Jakarta", [])


def test_a_last_row_without_a_newline_and_a_header_alone() -> None:
    assert _whole(FILE.rstrip(b"\n"), "Asia/Jakarta", [10]) == _whole(FILE, "Asia/Jakarta", [])[:-1]
    header = b"station_id,ts,sensor,value,unit"
    assert _whole(header, "Asia/Jakarta", [5]) == header
    assert rezone_lines([b""], ZoneInfo("UTC")) == [b""]
