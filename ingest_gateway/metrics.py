"""The gateway's Prometheus metrics, defined once (served at ``/metrics`` on the gateway port)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "scada_gateway_requests_total", "Ingest requests by route and status code.", ["route", "status"]
)
REQUEST_SECONDS = Histogram(
    "scada_gateway_request_duration_seconds",
    "Time to answer an ingest request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
READINGS_ACCEPTED = Counter(
    "scada_gateway_readings_accepted_total", "Readings acknowledged by Kafka and answered 202."
)
REQUESTS_REJECTED = Counter(
    "scada_gateway_requests_rejected_total", "Requests answered 4xx/5xx, by reason.", ["reason"]
)
REQUEST_READINGS = Histogram(
    "scada_gateway_request_readings",
    "Readings per accepted request (batch size).",
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 7500, 10000, 25000, 50000),
)
PRODUCE_SECONDS = Histogram(
    "scada_gateway_produce_duration_seconds",
    "From first send to the last acks=all acknowledgement of one request.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PRODUCE_FAILURES = Counter(
    "scada_gateway_produce_failures_total", "Requests answered 503 because Kafka did not ack."
)
