-- Each station's newest reading, for the dashboard's station list (last seen,
-- health, sensors): one row per station, so listing thousands of stations reads
-- thousands of rows, not the hypertable. The stream processors keep it in the
-- same statement that stores the readings. ``last_values`` holds the newest
-- value of every sensor the station ever sent.
CREATE TABLE telemetry.station_latest (
    station_id     text        PRIMARY KEY,
    last_ts        timestamptz NOT NULL,
    last_values    jsonb       NOT NULL,
    last_stored_at timestamptz NOT NULL
);

INSERT INTO telemetry.station_latest (station_id, last_ts, last_values, last_stored_at)
SELECT s.station_id, r.ts, r."values", r.stored_at
FROM (SELECT station_id FROM ingest.stations
      UNION SELECT station_id FROM telemetry.station_day_writes) s
CROSS JOIN LATERAL (
    SELECT ts, "values", stored_at FROM telemetry.station_readings x
    WHERE x.station_id = s.station_id ORDER BY ts DESC LIMIT 1
) r;
