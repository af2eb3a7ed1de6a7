-- When each station-day last received new data: lets the historical API reuse a
-- finished job's result only while no newer data arrived in its range. The
-- stream processors update it in the same statement that stores the readings.
CREATE TABLE telemetry.station_day_writes (
    station_id     text        NOT NULL,
    day            timestamptz NOT NULL,
    last_stored_at timestamptz NOT NULL,
    PRIMARY KEY (station_id, day)
);
