-- A 6-hour rollup level, kept by the stream processors like the others: a year
-- chart (auto resolution: 6-hour buckets) reads 1,460 rows per station instead of
-- re-bucketing 8,760 hourly ones (213-291 ms -> 54-66 ms for the query on this
-- machine; docs/performance.md). Buckets are aligned like time_bucket's.
CREATE TABLE telemetry.station_rollup_6h (LIKE telemetry.station_rollup_1m INCLUDING ALL);
SELECT create_hypertable('telemetry.station_rollup_6h', by_range('bucket', INTERVAL '365 days'));

INSERT INTO telemetry.station_rollup_6h (station_id, bucket, stats)
SELECT station_id, bucket, jsonb_object_agg(sensor, jsonb_build_array(min, max, sum, count))
FROM (
    SELECT r.station_id, time_bucket('6 hours', r.bucket) AS bucket, s.key AS sensor,
           min((s.value ->> 0)::float8) AS min, max((s.value ->> 1)::float8) AS max,
           sum((s.value ->> 2)::float8) AS sum, sum((s.value ->> 3)::bigint) AS count
    FROM telemetry.station_rollup_1h r CROSS JOIN LATERAL jsonb_each(r.stats) AS s
    GROUP BY 1, 2, 3
) per_sensor
GROUP BY station_id, bucket;

CREATE VIEW telemetry.readings_6h AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count
FROM telemetry.station_rollup_6h r CROSS JOIN LATERAL jsonb_each(r.stats) AS s;
