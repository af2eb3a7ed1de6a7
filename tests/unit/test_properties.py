"""Property tests (Hypothesis) of the pure logic hostile input reaches first.

- ``parse_duration``: only ``ValueError``, never past its bound, never zero;
- ``plan`` and ``chunks``: any resolution the API accepts and any range within
  ``EARLIEST_TS``..``LATEST_TS`` (up to ten years) is split into windows that
  cover ``[start, end)`` contiguously;
- the ingest path: whatever ``parse_readings`` accepts, ``encode_messages`` turns
  into messages that ``decode`` accepts, give back the readings, ``stage`` stages
  and each fit ``max_bytes``;
- ``parse_readings`` and ``decode`` on hostile bytes: refused with the errors the
  callers handle, never hanging; the fast decoder accepts only what the model does.

Every test is derandomized (no example database either), so a run is repeatable;
a defect found here is pinned by an explicit ``@example``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from base.durations import LONGEST, parse_duration
from base.http.errors import HttpError
from historical_service.query import chunks
from historical_service.resolution import plan
from ingest_gateway.validation import Limits, ReadingIn, parse_readings
from schemas.readings import EARLIEST_TS, LATEST_TS, MAX_ABS_VALUE, StationReadingsAccepted
from schemas.readings_codec import StoredMessage, decode, encode_messages
from stream_processors.writer import stage

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LIMITS = Limits(max_body_bytes=16 * 1024 * 1024, max_readings=50_000, max_sensors=256)
INGEST_ID = UUID("6b1e0a8c-3f1d-4a52-9a57-0b7c0f1e2d3c")
TOKEN_ID = UUID("0f9d8c7b-6a5e-4d3c-8b2a-190817161514")
TEN_YEARS = timedelta(days=3660)

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
QUICK = settings(DETERMINISTIC, max_examples=100)

# --- strategies ------------------------------------------------------------------------

IDENTIFIER_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
identifiers = st.text(IDENTIFIER_CHARACTERS, min_size=1, max_size=64)
short_identifiers = st.text(IDENTIFIER_CHARACTERS, min_size=1, max_size=8)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def instants(low: datetime, high: datetime) -> st.SearchStrategy[datetime]:
    """Aware datetimes from ``low`` to ``high`` (as instants), with any whole-minute offset."""

    def local(pair: tuple[datetime, timezone]) -> datetime:
        moment, zone = pair
        return moment.astimezone(zone)

    naive = st.datetimes(
        min_value=low.astimezone(UTC).replace(tzinfo=None),
        max_value=high.astimezone(UTC).replace(tzinfo=None),
    )
    return st.tuples(naive.map(lambda d: d.replace(tzinfo=UTC)), offsets).map(local)


sensor_values = st.one_of(
    st.none(),
    st.floats(min_value=-MAX_ABS_VALUE, max_value=MAX_ABS_VALUE),
    st.integers(-(2**70), 2**70),
)


@st.composite
def reading_items(draw: st.DrawFn, *, max_readings: int = 40) -> list[dict[str, Any]]:
    """Valid readings as a station would send them: a few stations, any offsets."""
    stations = draw(st.lists(short_identifiers | identifiers, min_size=1, max_size=4, unique=True))
    sensors = draw(st.lists(short_identifiers | identifiers, min_size=1, max_size=12, unique=True))
    ts = instants(EARLIEST_TS, NOW + timedelta(minutes=5))
    items = []
    for _ in range(draw(st.integers(1, max_readings))):
        names = draw(st.lists(st.sampled_from(sensors), max_size=len(sensors), unique=True))
        moment = draw(ts)
        text = moment.isoformat()
        if moment.utcoffset() == timedelta(0) and draw(st.booleans()):
            text = text.replace("+00:00", "Z")
        items.append(
            {
                "station_id": draw(st.sampled_from(stations)),
                "ts": text,
                "values": {name: draw(sensor_values) for name in names},
            }
        )
    return items


def body_of(items: list[Any]) -> bytes:
    # The standard library's encoder: it writes integers past 64 bits, as a station may.
    return json.dumps({"readings": items}, allow_nan=False).encode()


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """Bytes, JSON of any shape, and valid bodies with one part replaced by anything."""
    kind = draw(st.sampled_from(["bytes", "json", "field", "reading", "splice"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    items = draw(reading_items(max_readings=5))
    if kind == "field":
        item = draw(st.sampled_from(items))
        key = draw(st.sampled_from(["station_id", "ts", "values", "extra"]))
        item[key] = draw(json_values)
        return body_of(items)
    if kind == "reading":
        items.append(draw(json_values))
        return body_of(items)
    raw = body_of(items)
    at = draw(st.integers(0, len(raw)))
    cut = draw(st.integers(0, 8))
    return raw[:at] + draw(st.binary(max_size=8)) + raw[at + cut :]


# --- durations -------------------------------------------------------------------------

duration_texts = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A\s?\d{1,12}(\.\d{1,9})?\s?(ms|s|m|h|d|w)\s?\Z"),
    st.builds(
        "{}{}".format,
        st.decimals(min_value=0, max_value=10**12, places=9).map(str),
        st.sampled_from(["ms", "s", "m", "h", "d", "w", "x", ""]),
    ),
)


@DETERMINISTIC
@given(text=duration_texts)
def test_parse_duration_raises_only_value_error_and_respects_longest(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert timedelta(0) <= duration <= LONGEST


@DETERMINISTIC
@example(text="0.000000001s")
@given(text=duration_texts)
def test_an_accepted_duration_is_positive(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert duration > timedelta(0)


@DETERMINISTIC
@example(text="1000000000d", longest=timedelta.max)
@given(text=duration_texts, longest=st.timedeltas(min_value=timedelta(microseconds=1)))
def test_parse_duration_with_any_bound_raises_only_value_error(
    text: str, longest: timedelta
) -> None:
    try:
        duration = parse_duration(text, longest=longest)
    except ValueError:
        return
    assert duration <= longest


# --- plan and chunks -------------------------------------------------------------------

resolutions = st.one_of(
    st.sampled_from(["raw", "auto", "1m", "5m", "90s", "1h", "6h", "1d", "7d", "3660d", "1.5h"]),
    st.from_regex(r"\A\d{1,6}(\.\d{1,3})?(s|m|h|d|w)\Z"),
    st.text(max_size=32),
)


@st.composite
def ranges(draw: st.DrawFn, *, longest: timedelta) -> tuple[datetime, datetime]:
    start = draw(instants(EARLIEST_TS, LATEST_TS - timedelta(microseconds=1)))
    room = min(longest, LATEST_TS - start)
    span = draw(
        st.one_of(
            st.timedeltas(min_value=timedelta(microseconds=1), max_value=room),
            st.sampled_from([timedelta(microseconds=1), timedelta(minutes=1), room]),
        )
    )
    return start, (start + span).astimezone(draw(offsets))


@DETERMINISTIC
@given(resolution=resolutions, bounds=ranges(longest=LATEST_TS - EARLIEST_TS))
def test_plan_accepts_or_refuses_with_value_error_over_the_whole_range(
    resolution: str, bounds: tuple[datetime, datetime]
) -> None:
    # The API plans before it checks the user's range limit: any range in bounds.
    start, end = bounds
    try:
        query_plan = plan(resolution, start, end)
    except ValueError:
        return
    if query_plan.bucket is not None:
        assert query_plan.bucket >= timedelta(minutes=1)
        assert query_plan.bucket % timedelta(minutes=1) == timedelta(0)


@DETERMINISTIC
@given(resolution=resolutions, bounds=ranges(longest=TEN_YEARS))
def test_chunks_cover_the_range_contiguously(
    resolution: str, bounds: tuple[datetime, datetime]
) -> None:
    start, end = bounds
    try:
        query_plan = plan(resolution, start, end)
    except ValueError:
        return
    windows = chunks(start, end, query_plan)
    assert windows, "no window"
    assert windows[0][0] == start
    assert windows[-1][1] == end
    for (_, left_end), (right_start, _) in itertools.pairwise(windows):
        assert left_end == right_start
    assert all(low < high for low, high in windows)
    if query_plan.bucket is None:
        assert all(high - low <= timedelta(days=1) for low, high in windows)
    else:
        # Inner edges fall on bucket boundaries (epoch-aligned), so no bucket is split.
        for _, edge in windows[:-1]:
            assert (edge - EARLIEST_TS) % query_plan.bucket == timedelta(0)
        assert len(windows) <= 5


# --- ingest: parse, encode, decode, stage ----------------------------------------------


def _through_the_pipeline(readings: list[ReadingIn], chunk_size: int, max_bytes: int) -> None:
    """What the gateway publishes of ``readings``, the sink decodes and stages as they were."""
    messages = encode_messages(
        INGEST_ID, "org-1", readings, NOW, chunk_size, max_bytes, token_id=TOKEN_ID
    )
    decoded: list[StoredMessage] = []
    for station, chunk, value in messages:
        message = decode(value)
        assert (message.station_id, message.chunk, message.ingest_id) == (station, chunk, INGEST_ID)
        assert message.receipt is not None
        assert message.receipt.token_id == TOKEN_ID
        assert message.receipt.reading_count == len(readings)
        assert message.receipt.message_count == len(messages)
        assert 1 <= len(message.readings) <= chunk_size
        decoded.append(message)

    # Per station, in chunk order, the very readings accepted (instants, offsets, values).
    stations = list(dict.fromkeys(r["station_id"] for r in readings))
    for station in stations:
        mine = [m for m in decoded if m.station_id == station]
        assert [m.chunk for m in mine] == list(range(len(mine)))
        got = [(ts, ts.utcoffset(), values) for m in mine for ts, values in m.readings]
        sent = [
            (r["ts"], r["ts"].utcoffset(), r["values"])
            for r in readings
            if r["station_id"] == station
        ]
        assert got == sent

    staged = stage(decoded)
    merged: dict[tuple[str, datetime], dict[str, float | None]] = {}
    for r in readings:
        key = (r["station_id"], r["ts"])
        merged[key] = {**r["values"], **merged.get(key, {})}
    assert len(staged.rows) == len(merged)
    assert staged.values == sum(
        v is not None for values in merged.values() for v in values.values()
    )
    assert staged.usable


@QUICK
@given(
    items=reading_items(),
    chunk_size=st.integers(1, 50),
    max_bytes=st.integers(256, 1024 * 1024),
)
def test_accepted_readings_become_messages_the_sink_decodes_and_stages(
    items: list[dict[str, Any]], chunk_size: int, max_bytes: int
) -> None:
    readings = parse_readings(body_of(items), LIMITS, NOW)
    assert len(readings) == len(items)
    _through_the_pipeline(readings, chunk_size, max_bytes)


def _sizes_hold(messages: list[tuple[str, int, bytes]], max_bytes: int) -> None:
    for _, _, value in messages:
        if len(value) > max_bytes:  # allowed only for a reading that alone is too large
            assert len(orjson.loads(value)["readings"]) == 1, len(value)


@QUICK
@given(items=reading_items(), max_bytes=st.integers(200, 8192))
def test_every_message_of_several_readings_fits_max_bytes_before_the_receipt(
    items: list[dict[str, Any]], max_bytes: int
) -> None:
    readings = parse_readings(body_of(items), LIMITS, NOW)
    _sizes_hold(encode_messages(INGEST_ID, "org-1", readings, NOW, 2000, max_bytes), max_bytes)


def _two_readings() -> list[dict[str, Any]]:
    return [
        {"station_id": "s", "ts": f"2026-11-23T11:0{i}:00+00:00", "values": {"x": 1.0}}
        for i in range(2)
    ]


# The size of the two readings' one message before the receipt: the tightest limit it fits.
_TIGHT = len(
    encode_messages(
        INGEST_ID, "org-1", parse_readings(body_of(_two_readings()), LIMITS, NOW), NOW, 2000
    )[0][2]
)


@QUICK
@example(items=_two_readings(), max_bytes=_TIGHT)
@given(items=reading_items(), max_bytes=st.integers(200, 8192))
def test_every_message_of_several_readings_fits_max_bytes_as_the_gateway_publishes(
    items: list[dict[str, Any]], max_bytes: int
) -> None:
    readings = parse_readings(body_of(items), LIMITS, NOW)
    messages = encode_messages(
        INGEST_ID, "org-1", readings, NOW, 2000, max_bytes, token_id=TOKEN_ID
    )
    _sizes_hold(messages, max_bytes)


@DETERMINISTIC
@given(raw=hostile_bodies())
def test_parse_readings_refuses_hostile_bodies_with_gateway_errors(raw: bytes) -> None:
    try:
        readings = parse_readings(raw, LIMITS, NOW)
    except HttpError as exc:  # a 422 or a 413, each with a message
        refused: HttpError | None = exc
    else:
        refused = None
        _through_the_pipeline(readings, 2000, 1024 * 1024)
    if refused is not None:
        assert refused.http_status in (413, 422)
        assert refused.message


# --- decode on hostile bytes -----------------------------------------------------------


def _valid_message(items: list[dict[str, Any]]) -> bytes:
    readings = parse_readings(body_of(items), LIMITS, NOW)
    return encode_messages(INGEST_ID, "org-1", readings, NOW, 2000, token_id=TOKEN_ID)[0][2]


@st.composite
def hostile_messages(draw: st.DrawFn) -> bytes:
    """Bytes, and valid messages with a field replaced, a byte run spliced or cut short."""
    kind = draw(st.sampled_from(["bytes", "field", "reading", "splice", "cut"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    value = _valid_message(draw(reading_items(max_readings=4)))
    if kind in ("field", "reading"):
        data = orjson.loads(value)
        target = data if kind == "field" else draw(st.sampled_from(data["readings"]))
        keys = [*sorted(target), "extra"]
        target[draw(st.sampled_from(keys))] = draw(
            json_values
            | st.sampled_from(["2020-W01-1T00:00:00+00:00", "9999-12-31T23:59:00-05:00"])
        )
        return json.dumps(data).encode()
    at = draw(st.integers(0, len(value)))
    if kind == "cut":
        return value[:at]
    return value[:at] + draw(st.binary(max_size=8)) + value[at + draw(st.integers(0, 8)) :]


@settings(DETERMINISTIC, max_examples=300, deadline=timedelta(seconds=2))
@given(value=hostile_messages())
def test_decode_refuses_hostile_messages_with_value_errors(value: bytes) -> None:
    # The sink dead-letters whatever decode raises; a ValueError (pydantic's
    # ValidationError is one) is what the decoder promises. The deadline: never hangs.
    with contextlib.suppress(ValueError):
        decode(value)


def _by_model(value: bytes) -> StoredMessage | None:
    try:
        return StoredMessage.from_model(StationReadingsAccepted.model_validate_json(value), value)
    except ValidationError:
        return None


@settings(DETERMINISTIC, max_examples=300)
@example(
    value=orjson.dumps(
        {
            **orjson.loads(_valid_message(_two_readings())),
            "readings": [{"ts": "2020-W01-1T00:00:00+00:00", "values": {"x": 1.0}}],
        }
    )
)
@given(value=hostile_messages())
def test_decode_accepts_exactly_what_the_model_accepts(value: bytes) -> None:
    judged = _by_model(value)
    try:
        fast = decode(value)
    except ValueError:
        assert judged is None, "the model accepts what decode refuses"
        return
    assert judged is not None, "decode accepts what the model refuses"
    assert (fast.ingest_id, fast.station_id, fast.chunk) == (
        judged.ingest_id,
        judged.station_id,
        judged.chunk,
    )
    assert fast.readings == judged.readings
    assert fast.receipt == judged.receipt


@QUICK
@given(items=reading_items(max_readings=10))
def test_valid_encodings_round_trip_through_decode(items: list[dict[str, Any]]) -> None:
    value = _valid_message(items)
    message = decode(value)
    model = StationReadingsAccepted.model_validate_json(value)
    assert message == StoredMessage.from_model(model, value)
    assert all(
        v is None or (math.isfinite(v) and abs(v) <= MAX_ABS_VALUE)
        for _, values in message.readings
        for v in values.values()
    )
