"""HTTP → Kafka → TimescaleDB through the real gateway, broker, sink and database."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from base.kafka_topics import describe_topics
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.pipeline import body, make_token, readings, running_gateway, running_sink, wait_for


async def _end_offsets(kafka_bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        count = (await describe_topics(kafka_bootstrap, [topic])).get(topic, 0)
        partitions = set(range(count))
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _stored(db: asyncpg.Connection, stations: list[str]) -> list[Any]:
    return await db.fetch(
        "SELECT station_id, ts, sensor, count(*) AS copies FROM telemetry.readings "
        "WHERE station_id = ANY($1::text[]) GROUP BY 1, 2, 3",
        stations,
    )


async def test_a_7500_reading_post_is_stored_once_and_repeats_add_nothing(
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    stations = [f"{unique}-{i}" for i in range(3)]
    items = readings(stations, 7500)
    token = await make_token(database_url, "org-a", stations)
    async with (
        running_gateway(gateway_settings, token) as gateway,
        running_sink(processor_settings),
    ):
        first = await gateway.post(items, **{"idempotency-key": f"{unique}-k1"})
        assert first.status_code == 202, first.text
        accepted = first.json()
        assert accepted["accepted_count"] == 7500

        async def persisted() -> Any:
            status = (
                await gateway.client.get(
                    accepted["status_url"], headers={"authorization": f"Bearer {token}"}
                )
            ).json()
            return status if status["state"] == "completed" else None

        status = await wait_for(persisted)
        assert status["persisted_count"] == 7500
        assert status["dead_lettered_count"] == 0

        # The same key: the first response, nothing published.
        ends_before = await _end_offsets(
            gateway_settings.effective_kafka_bootstrap, gateway_settings.topics.readings.name
        )
        replay = await gateway.post(items, **{"idempotency-key": f"{unique}-k1"})
        assert replay.status_code == 202
        assert replay.json() == accepted
        assert replay.headers["idempotent-replayed"] == "true"
        assert (
            await _end_offsets(
                gateway_settings.effective_kafka_bootstrap, gateway_settings.topics.readings.name
            )
            == ends_before
        )

        # Without a key: a new ingest, stored as "already there", adding no rows.
        again = await gateway.post(items)
        assert again.status_code == 202
        assert again.json()["ingest_id"] != accepted["ingest_id"]

        async def second_done() -> Any:
            status = (
                await gateway.client.get(
                    again.json()["status_url"], headers={"authorization": f"Bearer {token}"}
                )
            ).json()
            return status["state"] == "completed"

        await wait_for(second_done)

    rows = await _stored(db, stations)
    assert len(rows) == 7500 * 8
    assert {r["copies"] for r in rows} == {1}
    rollup = await db.fetchval(
        "SELECT sum(count) FROM telemetry.readings_1m WHERE station_id = ANY($1::text[])", stations
    )
    assert rollup == 7500 * 8


async def test_one_bad_reading_rejects_the_request_and_publishes_nothing(
    gateway_settings: GatewaySettings, database_url: str, db: asyncpg.Connection, unique: str
) -> None:
    station = f"{unique}-s"
    items = readings([station], 500)
    items[17]["values"]["temperature"] = "hot"
    token = await make_token(database_url, "org-a", [station])
    async with running_gateway(gateway_settings, token) as gateway:
        response = await gateway.post(items)
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert [(e["index"], e["field"]) for e in errors] == [(17, "values.temperature")]
        assert (
            await _end_offsets(
                gateway_settings.effective_kafka_bootstrap, gateway_settings.topics.readings.name
            )
            == 0
        )
    assert await _stored(db, [station]) == []


async def test_auth_media_type_and_size_errors_say_what_is_wrong(
    gateway_settings: GatewaySettings, database_url: str, unique: str
) -> None:
    mine, theirs = f"{unique}-mine", f"{unique}-theirs"
    token = await make_token(database_url, "org-a", [mine])
    await make_token(database_url, "org-b", [theirs])
    star = await make_token(database_url, "org-a", ["*"])
    settings = gateway_settings.model_copy(update={"max_body_bytes": 200_000})
    async with running_gateway(settings, token) as gateway:
        unauthenticated = await gateway.client.post(
            "/v1/readings",
            content=body(readings([mine], 1)),
            headers={"content-type": "application/json"},
        )
        assert unauthenticated.status_code == 401

        forbidden = await gateway.post(readings([mine, theirs], 4))
        assert forbidden.status_code == 403
        assert theirs in forbidden.json()["message"]
        assert mine not in forbidden.json()["message"]

        gateway.token = star  # '*' covers the org's stations and new ones, not another org's
        assert (await gateway.post(readings([mine, f"{unique}-new"], 2))).status_code == 202
        assert (await gateway.post(readings([theirs], 1))).status_code == 403

        wrong_type = await gateway.client.post(
            "/v1/readings",
            content=b"a=1",
            headers={"authorization": f"Bearer {token}", "content-type": "text/plain"},
        )
        assert wrong_type.status_code == 415

        too_big = await gateway.post(readings([mine], 2000))
        assert too_big.status_code == 413
        assert "200000" in too_big.json()["message"]


async def test_legacy_receiver_answers_in_the_seed_shape(
    gateway_settings: GatewaySettings, database_url: str, unique: str
) -> None:
    station = f"{unique}-aws"
    token = await make_token(database_url, "org-a", [station])
    async with running_gateway(gateway_settings, token) as gateway:
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "content-encoding": "gzip",
        }
        response = await gateway.client.post(
            "/api/aws/receiver",
            content=body(readings([station], 10), compress=True),
            headers=headers,
        )
        assert response.status_code == 202
        shape = response.json()
        assert shape["status"] == "accepted"
        assert shape["data_count"] == 10
        assert shape["queue"] == gateway_settings.topics.readings.name
        assert {"message", "response_time_ms", "ingest_id", "status_url"} <= set(shape)

        bad = await gateway.client.post(
            "/api/aws/receiver",
            content=b'{"readings": []}',
            headers={**headers, "content-encoding": "identity"},
        )
        assert bad.status_code == 422
        assert bad.json()["status"] == "error"

        openapi = await gateway.client.get("/openapi.json")
        assert "/api/aws/receiver" in openapi.json()["paths"]
        metrics = await gateway.client.get("/metrics")
        assert 'scada_gateway_requests_total{route="legacy_receiver",status="202"}' in metrics.text


async def test_an_undecodable_record_is_dead_lettered_and_the_rest_stored(
    processor_settings: ProcessorSettings,
    gateway_settings: GatewaySettings,
    producer: Any,
    consumer_factory: Any,
    database_url: str,
    db: asyncpg.Connection,
    unique: str,
) -> None:
    station = f"{unique}-dlq"
    token = await make_token(database_url, "org-a", [station])
    topics = processor_settings.topics
    async with (
        running_gateway(gateway_settings, token) as gateway,
        running_sink(processor_settings),
    ):
        garbage = orjson.dumps({"schema_version": 1, "station_id": station, "readings": "nope"})
        await producer.send_and_wait(topics.readings.name, garbage, key=station.encode())
        assert (await gateway.post(readings([station], 20))).status_code == 202

        async def stored() -> Any:
            return len(await _stored(db, [station])) == 20 * 8

        await wait_for(stored)
    dlq = await consumer_factory(topics.readings_dlq.name)
    records = [r for batch in (await dlq.getmany(timeout_ms=10_000)).values() for r in batch]
    (letter,) = [topics.readings_dlq.deserialize(r.value) for r in records]
    assert letter.station_id == station
    assert "readings" in letter.reason
    assert orjson.loads(letter.payload) == orjson.loads(garbage)
