"""The sink's fast decoder agrees with the topic's pydantic model (pure logic)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson
import pytest
from pydantic import ValidationError

from schemas.readings import StationReadingsAccepted
from schemas.readings_codec import StoredMessage, _fast, decode


def _valid() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "ingest_id": str(uuid4()),
        "org_id": "bmkg",
        "station_id": "AWS-001",
        "chunk": 0,
        "accepted_at": datetime.now(UTC).isoformat(),
        "readings": [
            {"ts": "2026-11-23T08:00:00+07:00", "values": {"temperature": 27.5, "rain": None}},
            {"ts": "2026-11-23T01:00:10Z", "values": {"temperature": 28, "humidity": 80.5}},
        ],
    }


MUTATIONS: list[tuple[str, Any]] = [
    ("schema_version", 2),
    ("station_id", "bad id"),
    ("station_id", 7),
    ("org_id", "x" * 65),
    ("chunk", -1),
    ("chunk", True),
    ("chunk", "0"),
    ("ingest_id", "not-a-uuid"),
    ("readings", []),
    ("readings", "none"),
    ("accepted_at", "yesterday"),
    ("readings.0.ts", "2026-11-23T08:00:00"),
    ("readings.0.ts", 12345),
    ("readings.0.values", []),
    ("readings.0.values.temperature", "27"),
    ("readings.0.values.temperature", True),
    ("readings.0.values.temperature", 1e400),
    ("readings.0.values", {"bad name": 1.0}),
    ("readings.0.values", {f"s{i}": 1.0 for i in range(257)}),
]


def _mutate(message: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(message)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return out


def test_a_valid_message_takes_the_fast_path_and_matches_the_model() -> None:
    raw = orjson.dumps(_valid())
    fast = _fast(raw)
    model = StoredMessage.from_model(StationReadingsAccepted.model_validate_json(raw))
    assert fast == model


@pytest.mark.parametrize(("path", "value"), MUTATIONS)
def test_whatever_the_fast_path_accepts_the_model_accepts(path: str, value: Any) -> None:
    raw = (
        orjson.dumps(_mutate(_valid(), path, value))
        if value != 1e400
        else (orjson.dumps(_mutate(_valid(), path, 1.0)).replace(b"1.0", b"1e400", 1))
    )
    try:
        model = StoredMessage.from_model(StationReadingsAccepted.model_validate_json(raw))
    except ValidationError:
        model = None
    try:
        fast: StoredMessage | None = _fast(raw)
    except (ValueError, TypeError, KeyError, AttributeError):
        fast = None
    if fast is not None:
        assert model == fast, "the fast path accepted what the contract refuses"
    if model is None:
        with pytest.raises(ValidationError):
            decode(raw)
    else:
        assert decode(raw) == model
