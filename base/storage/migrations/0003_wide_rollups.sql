-- Rollups as one row per (station, bucket) with every sensor's statistics in jsonb:
-- {"temperature": [min, max, sum, count], ...}. For an 8-sensor station that is 8x
-- fewer rows to upsert per batch than one row per sensor (docs/decisions/0004).
CREATE FUNCTION telemetry.merge_stats(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_object_agg(k, CASE
        WHEN a ? k AND b ? k THEN jsonb_build_array(
            least((a -> k ->> 0)::float8, (b -> k ->> 0)::float8),
            greatest((a -> k ->> 1)::float8, (b -> k ->> 1)::float8),
            (a -> k ->> 2)::float8 + (b -> k ->> 2)::float8,
            (a -> k ->> 3)::bigint + (b -> k ->> 3)::bigint)
        WHEN a ? k THEN a -> k
        ELSE b -> k END)
    FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) AS keys(k)
$$;

CREATE TABLE telemetry.station_rollup_1m (
    station_id text        NOT NULL,
    bucket     timestamptz NOT NULL,
    stats      jsonb       NOT NULL,
    PRIMARY KEY (station_id, bucket)
);
SELECT create_hypertable('telemetry.station_rollup_1m', by_range('bucket', INTERVAL '30 days'));

CREATE TABLE telemetry.station_rollup_1h (LIKE telemetry.station_rollup_1m INCLUDING ALL);
SELECT create_hypertable('telemetry.station_rollup_1h', by_range('bucket', INTERVAL '365 days'));

INSERT INTO telemetry.station_rollup_1m (station_id, bucket, stats)
SELECT station_id, bucket,
       jsonb_object_agg(sensor, jsonb_build_array(min, max, sum, count))
FROM telemetry.rollup_1m GROUP BY station_id, bucket;

INSERT INTO telemetry.station_rollup_1h (station_id, bucket, stats)
SELECT station_id, bucket,
       jsonb_object_agg(sensor, jsonb_build_array(min, max, sum, count))
FROM telemetry.rollup_1h GROUP BY station_id, bucket;

DROP VIEW telemetry.readings_1m;
DROP VIEW telemetry.readings_1h;
DROP TABLE telemetry.rollup_1m;
DROP TABLE telemetry.rollup_1h;

-- The documented per-sensor views keep their columns.
CREATE VIEW telemetry.readings_1m AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count
FROM telemetry.station_rollup_1m r CROSS JOIN LATERAL jsonb_each(r.stats) AS s;

CREATE VIEW telemetry.readings_1h AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count
FROM telemetry.station_rollup_1h r CROSS JOIN LATERAL jsonb_each(r.stats) AS s;
