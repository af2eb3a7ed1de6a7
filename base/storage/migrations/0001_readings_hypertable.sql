-- Readings: one row per station and instant, its sensor values in a jsonb object.
-- A row per (station, ts) instead of per (station, sensor, ts) writes 8x fewer
-- rows for a typical weather station (docs/decisions/0002-storage-layout.md).
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE SCHEMA IF NOT EXISTS telemetry;

CREATE TABLE telemetry.station_readings (
    station_id text        NOT NULL,
    ts         timestamptz NOT NULL,
    "values"   jsonb       NOT NULL,
    ingest_id  uuid,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    -- A unique index on a hypertable must contain its time column.
    PRIMARY KEY (station_id, ts)
);
SELECT create_hypertable('telemetry.station_readings', by_range('ts', INTERVAL '7 days'));

-- Rollups kept up to date by the stream processors in the same transaction
-- as the raw rows, so they work on the Apache edition (no continuous aggregates).
CREATE TABLE telemetry.rollup_1m (
    station_id text             NOT NULL,
    sensor     text             NOT NULL,
    bucket     timestamptz      NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    sum        double precision NOT NULL,
    count      bigint           NOT NULL,
    PRIMARY KEY (station_id, sensor, bucket)
);
SELECT create_hypertable('telemetry.rollup_1m', by_range('bucket', INTERVAL '30 days'));

CREATE TABLE telemetry.rollup_1h (LIKE telemetry.rollup_1m INCLUDING ALL);
SELECT create_hypertable('telemetry.rollup_1h', by_range('bucket', INTERVAL '365 days'));

-- The stable, documented view for psql, Grafana and analysts: one row per
-- station, instant and sensor. JSON null (the sensor sent no value) is SQL NULL.
CREATE VIEW telemetry.readings AS
SELECT r.station_id,
       r.ts,
       v.key                    AS sensor,
       v.value::double precision AS value
FROM telemetry.station_readings AS r
CROSS JOIN LATERAL jsonb_each_text(r."values") AS v(key, value);

COMMENT ON VIEW telemetry.readings IS
    'One row per (station_id, ts, sensor). Stable contract: columns station_id text, '
    'ts timestamptz, sensor text, value double precision (NULL when the sensor sent null).';

CREATE VIEW telemetry.readings_1m AS
SELECT station_id, bucket, sensor, sum / count AS avg, min, max, count FROM telemetry.rollup_1m;
CREATE VIEW telemetry.readings_1h AS
SELECT station_id, bucket, sensor, sum / count AS avg, min, max, count FROM telemetry.rollup_1h;
