-- station_latest.last_values keeps the newest value of every sensor a station
-- sent, also of sensors only some readings of a batch carry: the stream
-- processors merge a batch's readings in time order with this aggregate.
CREATE AGGREGATE telemetry.jsonb_merge_agg(jsonb) (
    SFUNC = jsonb_concat,
    STYPE = jsonb,
    INITCOND = '{}'
);

-- Rebuild from each station's newest day of readings (0006 took one reading).
UPDATE telemetry.station_latest l
SET last_values = m.merged || l.last_values
FROM (
    SELECT r.station_id, telemetry.jsonb_merge_agg(r."values" ORDER BY r.ts) AS merged
    FROM telemetry.station_latest s
    JOIN telemetry.station_readings r
      ON r.station_id = s.station_id AND r.ts > s.last_ts - interval '1 day'
    GROUP BY r.station_id
) m
WHERE m.station_id = l.station_id;
