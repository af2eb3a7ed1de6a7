"""The dashboards deploy/grafana ships. Queries use the recording rules of
deploy/prometheus/recording.yml where one exists, so Grafana, the alerts and the
operations view read the same series."""

from __future__ import annotations

from tooling.grafana.model import Dashboard, Panel, Query

PIPELINE = Dashboard(
    uid="scada-pipeline",
    title="scada-pipeline: ingest, storage, history",
    description="What stations and dashboard users notice first: lag, throughput, latency.",
    panels=(
        Panel(
            "Consumer lag by group and partition (messages)",
            (Query("scada_consumer_lag_messages", "{{group}} {{topic}}[{{partition}}]"),),
        ),
        Panel(
            "Consumer lag by group and partition (seconds)",
            (Query("scada_consumer_lag_seconds", "{{group}} {{topic}}[{{partition}}]"),),
            unit="s",
        ),
        Panel(
            "Readings accepted and stored",
            (
                Query("scada:readings_accepted:rate5m", "accepted"),
                Query("scada:readings_stored:rate5m", "stored"),
            ),
            unit="reqps",
            description="Accepted: acknowledged by Kafka. Stored: newly inserted rows.",
        ),
        Panel(
            "Gateway latency by route (p50, p99)",
            (
                Query(
                    "histogram_quantile(0.5, sum by (le, route) "
                    "(rate(scada_gateway_request_duration_seconds_bucket[5m])))",
                    "p50 {{route}}",
                ),
                Query("scada:gateway_request_seconds:p99_5m", "p99 {{route}}"),
            ),
            unit="s",
        ),
        Panel(
            "Gateway answers by status",
            (Query("scada:gateway_requests:rate5m", "{{status}}"),),
            unit="reqps",
        ),
        Panel(
            "Dead letters (15 min)",
            (
                Query(
                    "sum by (reason) (increase(scada_sink_dead_lettered_total[15m]))", "{{reason}}"
                ),
            ),
            description="Records the sink sent to the DLQ: `scada dlq list`.",
        ),
        Panel(
            "Historical queue wait by lane (p90)",
            (Query("scada:historical_queue_wait_seconds:p90_5m", "{{lane}}"),),
            unit="s",
        ),
        Panel(
            "Historical job duration by lane (p90)",
            (
                Query(
                    "histogram_quantile(0.9, sum by (le, lane) "
                    "(rate(scada_historical_job_duration_seconds_bucket[5m])))",
                    "{{lane}}",
                ),
            ),
            unit="s",
        ),
    ),
)

PLATFORM = Dashboard(
    uid="scada-platform",
    title="scada-pipeline: Kafka, TimescaleDB, host",
    description="The servers under the pipeline: broker health, the database, the disks.",
    panels=(
        Panel(
            "Under-replicated and offline partitions",
            (
                Query(
                    "sum by (instance) (kafka_server_replicamanager_underreplicatedpartitions)",
                    "under-replicated {{instance}}",
                ),
                Query("max(kafka_controller_kafkacontroller_offlinepartitionscount)", "offline"),
            ),
        ),
        Panel(
            "Active controllers (1 is healthy)",
            (Query("sum(kafka_controller_kafkacontroller_activecontrollercount)", "controllers"),),
        ),
        Panel(
            "ISR shrinks and expands",
            (
                Query(
                    "sum by (instance) "
                    "(rate(kafka_server_replicamanager_isrshrinkspersec_total[5m]))",
                    "shrinks {{instance}}",
                ),
                Query(
                    "sum by (instance) "
                    "(rate(kafka_server_replicamanager_isrexpandspersec_total[5m]))",
                    "expands {{instance}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Broker bytes in and out",
            (
                Query(
                    "sum by (instance) "
                    "(rate(kafka_server_brokertopicmetrics_bytesinpersec_total[5m]))",
                    "in {{instance}}",
                ),
                Query(
                    "sum by (instance) "
                    "(rate(kafka_server_brokertopicmetrics_bytesoutpersec_total[5m]))",
                    "out {{instance}}",
                ),
            ),
            unit="Bps",
        ),
        Panel(
            "Produce and fetch latency (p99)",
            (
                Query(
                    'kafka_network_requestmetrics_totaltimems{quantile="99thPercentile"}',
                    "{{request}} {{instance}}",
                ),
            ),
            unit="ms",
        ),
        Panel(
            "TimescaleDB: up, connections",
            (
                Query("pg_up", "up {{instance}}"),
                Query("sum(pg_stat_activity_count)", "connections"),
            ),
        ),
        Panel(
            "TimescaleDB: transactions",
            (Query("sum(rate(pg_stat_database_xact_commit[5m]))", "commits"),),
            unit="ops",
        ),
        Panel(
            "Free disk by mount",
            (
                Query(
                    'node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|nsfs|overlay"}'
                    ' / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs|nsfs|overlay"}',
                    "{{mountpoint}}",
                ),
            ),
            unit="percentunit",
        ),
    ),
)

DASHBOARDS = (PIPELINE, PLATFORM)
