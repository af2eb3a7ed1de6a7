"""Result pages: seeking by a row index, a huge offset at once, formula guards removed."""

from __future__ import annotations

from pathlib import Path

from historical_service import result_pages
from historical_service.query import RAW_HEADER
from historical_service.result_pages import STEP, json_page

ROWS = 3 * STEP + 123


def _result(path: Path) -> Path:
    with path.open("w") as out:
        out.write(RAW_HEADER)
        for n in range(ROWS):
            station = "'-s" if n % 2 else "A"  # a station id the export guarded as text
            out.write(f"{station},2026-01-01T00:00:00Z,t,{n},°C\n")
    return path


def _values(page: dict[str, object]) -> list[float]:
    series = page["series"]
    assert isinstance(series, list)
    return sorted(p[1] for s in series for p in s["points"])


async def test_any_page_holds_exactly_its_rows(tmp_path: Path) -> None:
    path = _result(tmp_path / "r.csv")
    for offset, limit in [(0, 10), (STEP - 3, 7), (2 * STEP + 17, 1000), (ROWS - 5, 100)]:
        page = await json_page(path, offset, limit, ROWS)
        assert _values(page) == list(range(offset, min(offset + limit, ROWS)))
        assert page["next_offset"] == (offset + limit if offset + limit < ROWS else None)
    page = await json_page(path, 0, 4, ROWS)
    assert {s["station_id"] for s in page["series"]} == {"A", "-s"}  # the guard removed
    assert page["columns"] == ["ts", "value"]  # the unit is the series', not a point's
    assert {s["unit"] for s in page["series"]} == {"°C"}


async def test_an_offset_past_the_end_is_answered_at_once(tmp_path: Path) -> None:
    path = _result(tmp_path / "r.csv")
    page = await json_page(path, 10**15, 10, ROWS)
    assert (page["series"], page["next_offset"]) == ([], None)
    assert not any(key[0] == str(path) for key in result_pages._indexes)  # never scanned
