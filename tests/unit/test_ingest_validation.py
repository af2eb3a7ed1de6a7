"""Request validation of the gateway (pure logic)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson
import pytest

from ingest_gateway.errors import (
    InvalidReadings,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
)
from ingest_gateway.rate_limit import ReadingsRateLimiter
from ingest_gateway.validation import Limits, decode_body, parse_readings
from schemas.readings_codec import encode_messages
from schemas.topics import READINGS
from tests.pipeline import body, readings

LIMITS = Limits(max_body_bytes=1024 * 1024, max_readings=1000, max_sensors=8)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_valid_readings_parse_with_their_offsets() -> None:
    items = readings(["A", "B"], 10, start=NOW - timedelta(hours=1))
    parsed = parse_readings(body(items), LIMITS, NOW)
    assert [r["station_id"] for r in parsed[:2]] == ["A", "B"]
    assert parsed[0]["values"]["temperature"] == items[0]["values"]["temperature"]


def test_one_bad_reading_is_named_by_index_and_field() -> None:
    items = readings(["A"], 500, start=NOW - timedelta(days=1))
    items[17]["ts"] = "2026-11-23 08:00"
    with pytest.raises(InvalidReadings) as caught:
        parse_readings(body(items), LIMITS, NOW)
    assert caught.value.errors == [
        {"index": 17, "field": "ts", "reason": caught.value.errors[0]["reason"]}
    ]
    assert "offset" in caught.value.errors[0]["reason"]
    assert caught.value.message.startswith("1 reading invalid")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"station_id": "bad id!"}, "station_id", "letters, digits"),
        ({"values": {"temp c": 1.0}}, "values.temp c", "sensor name must be 1 to 64"),
        ({"values": {"t": "21.5"}}, "values.t", "valid number"),
        ({"values": {"t": True}}, "values.t", "valid number"),
        ({"ts": (NOW + timedelta(minutes=6)).isoformat()}, "ts", "future"),
        ({"values": {f"s{i}": 1.0 for i in range(9)}}, "values", "limit is 8"),
        ({"extra": 1}, "extra", "not permitted"),
    ],
)
def test_each_rule_names_the_field_and_why(
    change: dict[str, object], field: str, reason: str
) -> None:
    item = {**readings(["A"], 1, start=NOW)[0], **change}
    with pytest.raises(InvalidReadings) as caught:
        parse_readings(body([item]), LIMITS, NOW)
    (error,) = caught.value.errors
    assert (error["index"], error["field"]) == (0, field)
    assert reason in error["reason"]


def test_non_finite_numbers_are_refused() -> None:
    raw = b'{"readings": [{"station_id": "A", "ts": "2026-11-23T08:00:00Z", "values": {"t": NaN}}]}'
    with pytest.raises(InvalidReadings) as caught:
        parse_readings(raw, LIMITS, NOW)
    assert caught.value.errors == [
        {"index": 0, "field": "values.t", "reason": "must be a finite number"}
    ]


def test_empty_list_and_bad_json_are_422() -> None:
    with pytest.raises(InvalidReadings, match="at least 1"):
        parse_readings(b'{"readings": []}', LIMITS, NOW)
    with pytest.raises(InvalidReadings, match="not valid JSON"):
        parse_readings(b'{"readings": [', LIMITS, NOW)


def test_too_many_readings_is_413_even_with_bad_ones() -> None:
    items = readings(["A"], 1001, start=NOW - timedelta(days=1))
    with pytest.raises(PayloadTooLarge, match="1001 readings"):
        parse_readings(body(items), LIMITS, NOW)
    items[3]["ts"] = "yesterday"
    with pytest.raises(PayloadTooLarge):
        parse_readings(body(items), LIMITS, NOW)


def test_gzip_is_inflated_within_the_bound() -> None:
    raw = body(readings(["A"], 5, start=NOW))
    assert decode_body(gzip.compress(raw), "application/json", "gzip", LIMITS) == raw
    bomb = gzip.compress(b"[" + b" " * (2 * 1024 * 1024) + b"]")
    with pytest.raises(PayloadTooLarge, match="inflated"):
        decode_body(bomb, "application/json", "gzip", LIMITS)


def test_media_type_and_encoding_are_checked() -> None:
    assert decode_body(b"{}", "application/json; charset=utf-8", "", LIMITS) == b"{}"
    with pytest.raises(UnsupportedMediaType, match="application/json"):
        decode_body(b"{}", "text/plain", "", LIMITS)
    with pytest.raises(UnsupportedMediaType, match="br"):
        decode_body(b"{}", "application/json", "br", LIMITS)


def test_messages_group_by_station_keep_order_and_match_the_topic_schema() -> None:
    parsed = parse_readings(body(readings(["A", "B"], 10, start=NOW)), LIMITS, NOW)
    ingest = uuid4()
    messages = list(encode_messages(ingest, "org", parsed, NOW, chunk_size=3))
    assert [(station, chunk) for station, chunk, _ in messages] == [
        ("A", 0),
        ("A", 1),
        ("B", 0),
        ("B", 1),
    ]
    decoded = [READINGS.deserialize(value) for _, _, value in messages]
    assert [len(m.readings) for m in decoded] == [3, 2, 3, 2]
    a_times = [r.ts for m in decoded if m.station_id == "A" for r in m.readings]
    assert a_times == sorted(a_times)
    assert all(m.ingest_id == ingest for m in decoded)
    assert orjson.loads(messages[0][2])["schema_version"] == 1


def test_rate_limiter_refills_and_says_when_to_retry() -> None:
    limiter = ReadingsRateLimiter(rate=100, burst=200)
    token = uuid4()
    limiter.take(token, 200, now=0.0)
    with pytest.raises(RateLimited) as caught:
        limiter.take(token, 50, now=0.1)
    assert caught.value.retry_after == pytest.approx(0.4)
    limiter.take(token, 50, now=0.5)


@pytest.mark.parametrize("ts", ["0001-01-01T00:30:00+01:00", "1969-12-31T23:59:59Z"])
def test_instants_before_the_floor_are_refused_naming_ts(ts: str) -> None:
    # The first is valid RFC 3339 and year 0 in UTC: it once stopped every stream processor.
    items = readings(["A"], 3, start=NOW - timedelta(hours=1))
    items[1]["ts"] = ts
    with pytest.raises(InvalidReadings) as caught:
        parse_readings(body(items), LIMITS, NOW)
    assert caught.value.errors == [
        {"index": 1, "field": "ts", "reason": "is before 1970-01-01T00:00:00+00:00"}
    ]


def test_deep_nesting_is_a_422_from_the_one_parse() -> None:
    for nested in (b"[" * 100_000, b'{"readings": ' + b"[" * 100_000):
        with pytest.raises(InvalidReadings) as caught:
            parse_readings(nested, LIMITS, NOW)
        assert "not valid JSON" in caught.value.errors[0]["reason"]


def test_messages_are_split_by_bytes_and_each_fits() -> None:
    # 256 sensors with 64-character names: 2,000 readings of one station would be ~45 MB.
    names = [f"{n:03d}".ljust(64, "x") for n in range(256)]
    items = [
        {"station_id": "A", "ts": NOW - timedelta(seconds=i), "values": dict.fromkeys(names, 1.5)}
        for i in range(2000)
    ]
    messages = encode_messages(uuid4(), "org", items, NOW, 2000, 1024 * 1024, token_id=uuid4())  # type: ignore[arg-type]
    assert len(messages) > 32
    assert all(len(value) <= 1024 * 1024 for _, _, value in messages)
    assert [chunk for _, chunk, _ in messages] == list(range(len(messages)))
    decoded = [READINGS.deserialize(value) for _, _, value in messages]
    assert [r.ts for m in decoded for r in m.readings] == [i["ts"] for i in items]
    assert {(m.ingest_readings, m.ingest_messages) for m in decoded} == {(2000, len(messages))}


def test_values_whose_rollup_sums_could_overflow_are_refused() -> None:
    items = readings(["A"], 2, start=NOW - timedelta(hours=1))
    items[1]["values"]["temperature"] = 1e308
    with pytest.raises(InvalidReadings) as caught:
        parse_readings(body(items), LIMITS, NOW)
    assert caught.value.errors == [
        {"index": 1, "field": "values.temperature", "reason": "must be from -1e+300 to 1e+300"}
    ]
