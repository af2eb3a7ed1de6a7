"""JSON pages of a result file, without blocking the event loop or re-reading from the start.

A result is a CSV file (one row per line: its cells are identifiers, instants and
numbers, never a newline). The first page request of a file records the byte
offset of every ``STEP``-th row, once, in a thread; a page then seeks to the
nearest recorded row and reads only its own rows, also in a thread. An
``offset`` past the job's row count is answered from the header alone.
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from historical_service.query import TEXT_COLUMNS, plain_text

STEP = 10_000
"""Rows between two recorded byte offsets: a page reads at most this many rows it skips."""
_KEPT = 32
"""Indexes of this many result files are kept (a few kB each)."""

_indexes: OrderedDict[tuple[str, int], list[int]] = OrderedDict()
_lock = threading.Lock()


async def json_page(path: Path, offset: int, limit: int, total_rows: int) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + limit`` of the result, as series of points."""
    return await asyncio.to_thread(_read_page, path, offset, limit, total_rows)


def _read_page(path: Path, offset: int, limit: int, total_rows: int) -> dict[str, Any]:
    if offset >= total_rows:  # past the end: the header alone says what the columns are
        with path.open("rb") as handle:
            columns = next(csv.reader([handle.readline().decode()]))
        return _page(columns, {}, offset, limit, more=False)
    index = _index(path)
    k = min(offset // STEP, len(index) - 1)
    series: dict[tuple[str, str], list[list[Any]]] = {}
    words: dict[tuple[str, str], dict[str, str]] = {}
    with path.open("rb") as handle:
        columns = next(csv.reader([handle.readline().decode()]))
        handle.seek(index[k])
        for _ in range(offset - k * STEP):
            if not handle.readline():
                break
        lines = [handle.readline() for _ in range(min(limit, total_rows - offset))]
    numbers = [i for i, c in enumerate(columns) if i > 2 and c not in TEXT_COLUMNS]
    texts = [(i, c) for i, c in enumerate(columns) if c in TEXT_COLUMNS]
    for row in csv.reader(io.StringIO(b"".join(lines).decode())):
        key = (plain_text(row[0]), plain_text(row[2]))
        points = series.get(key)
        if points is None:
            points = series[key] = []
            words[key] = {c: plain_text(row[i]) for i, c in texts}
        points.append([row[1], *(float(row[i]) if row[i] else None for i in numbers)])
    return _page(columns, series, offset, limit, more=offset + limit < total_rows, words=words)


def _page(
    columns: list[str],
    series: dict[tuple[str, str], list[list[Any]]],
    offset: int,
    limit: int,
    *,
    more: bool,
    words: dict[tuple[str, str], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Per series its kind and unit (when the result has them) and points of the numbers."""
    words = words or {}
    return {
        "columns": [columns[1], *(c for c in columns[3:] if c not in TEXT_COLUMNS)],
        "series": [
            {"station_id": s, "sensor": k, **words.get((s, k), {}), "points": p}
            for (s, k), p in series.items()
        ],
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if more else None,
    }


def _index(path: Path) -> list[int]:
    """Byte offsets of rows 0, STEP, 2·STEP, … (row 0 follows the header)."""
    key = (str(path), path.stat().st_mtime_ns)
    with _lock:
        if key in _indexes:
            _indexes.move_to_end(key)
            return _indexes[key]
    offsets = []
    with path.open("rb") as handle:
        handle.readline()
        position = handle.tell()
        for row, line in enumerate(handle):
            if row % STEP == 0:
                offsets.append(position)
            position += len(line)
    offsets = offsets or [position]
    with _lock:
        _indexes[key] = offsets
        while len(_indexes) > _KEPT:
            _indexes.popitem(last=False)
    return offsets
