"""Kafka clients configured the one way this project uses them."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

MAX_REQUEST_SIZE = 8 * 1024 * 1024
"""The largest record our producers send (aiokafka refuses larger ones before sending)."""


def durable_producer(bootstrap: str, *, client_id: str, linger_ms: int = 2) -> AIOKafkaProducer:
    """A producer whose acknowledged records are on every in-sync replica, written once.

    ``enable_idempotence`` forces ``acks="all"`` and makes broker-side retries
    duplicate-free. ``linger_ms`` lets records of concurrent requests share a batch;
    batches are large because one readings message may be hundreds of KB.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=1024 * 1024,
        max_request_size=MAX_REQUEST_SIZE,
        request_timeout_ms=10_000,
        retry_backoff_ms=100,
    )
