"""Sending records that can never be stored to the dead-letter topic, with the reason."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from schemas.readings import ReadingDeadLettered
from schemas.readings_codec import StoredMessage
from schemas.topics import Topic
from stream_processors import metrics


@dataclass(frozen=True)
class Envelope:
    """What identifying fields a broken message still has."""

    ingest_id: UUID | None = None
    station_id: str | None = None
    chunk: int | None = None
    readings: int = 0


def dead_letter_for(
    record: ConsumerRecord[bytes, bytes], reason: str
) -> tuple[ReadingDeadLettered, Envelope]:
    """The DLQ entry for a record that does not decode, and what we could read of it."""
    payload = record.value or b""
    text, encoding = _text(payload)
    envelope = _loose_envelope(payload)
    letter = ReadingDeadLettered(
        reason=reason[:MAX_REASON_CHARS],
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        ingest_id=envelope.ingest_id,
        station_id=envelope.station_id or (record.key or b"")[:200].decode(errors="replace"),
        payload=text,
        payload_encoding=encoding,
        dead_lettered_at=datetime.now(UTC),
    )
    return letter, envelope


def dead_letter_for_message(
    message: StoredMessage, source_topic: str, reason: str
) -> ReadingDeadLettered:
    """The DLQ entry for a decoded message the database refused: its original bytes.

    ``scada dlq replay`` publishes them again once the cause is fixed.
    """
    if message.raw is not None:
        text, encoding = _text(message.raw)
    else:  # built in code, not read off the topic: its contents, as far as we know them
        text, encoding = (
            orjson.dumps(
                {
                    "ingest_id": message.ingest_id,
                    "station_id": message.station_id,
                    "chunk": message.chunk,
                    "readings": [{"ts": ts, "values": values} for ts, values in message.readings],
                }
            ).decode(),
            "utf-8",
        )
    return ReadingDeadLettered(
        reason=reason[:MAX_REASON_CHARS],
        source_topic=source_topic,
        source_partition=-1,
        source_offset=-1,
        ingest_id=message.ingest_id,
        station_id=message.station_id,
        payload=text,
        payload_encoding=encoding,
        dead_lettered_at=datetime.now(UTC),
    )


MAX_REASON_CHARS = 4096
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""A dead letter keeps at most this much of the original record (base64 grows it by a
third), so that it always fits the producer's request limit and the DLQ topic's."""


def _text(payload: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    payload = payload[:MAX_PAYLOAD_BYTES]
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode(), "base64"


def _loose_envelope(payload: bytes) -> Envelope:
    try:
        value: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Envelope()
    if not isinstance(value, dict):
        return Envelope()
    ingest_id = None
    with contextlib.suppress(ValueError):
        ingest_id = UUID(str(value.get("ingest_id")))
    station = value.get("station_id")
    chunk = value.get("chunk")
    readings = value.get("readings")
    return Envelope(
        ingest_id=ingest_id,
        station_id=station[:200] if isinstance(station, str) else None,
        chunk=chunk if type(chunk) is int and 0 <= chunk < 2**31 else None,  # an int4 column
        readings=len(readings) if isinstance(readings, list) else 0,
    )


async def send_dead_letters(
    producer: AIOKafkaProducer,
    topic: Topic[ReadingDeadLettered],
    letters: list[tuple[ReadingDeadLettered, str]],
) -> None:
    """Publish ``(letter, reason_code)`` pairs and wait for every acknowledgement."""
    futures = []
    for letter, code in letters:
        key = (letter.station_id or "").encode()
        futures.append(await producer.send(topic.name, topic.serialize(letter), key=key))
        metrics.DEAD_LETTERED.labels(reason=code).inc()
    for future in futures:
        await future
