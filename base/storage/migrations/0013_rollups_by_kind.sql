-- Rollups honour the sensor catalogue's kinds. An angle's rollup statistics carry two
-- more sums, of the sines and cosines of its values ([min, max, sum, count, Σsin, Σcos]),
-- so a bucket's direction is the vector mean; the views add each sensor's kind, unit
-- and the kind's own aggregate as `value`: the sum of an accumulation, the vector mean
-- of an angle (NULL for buckets stored before its kind was known), the rate per second
-- of a counter (max - min over the bucket), the maximum of a state (was it ever on),
-- the mean otherwise. The raw view adds the
-- unit, the kind and `out_of_range` (outside the catalogue's valid range: stored and
-- shown, flagged, never dropped).
CREATE OR REPLACE FUNCTION telemetry.merge_stats(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_object_agg(k, CASE
        WHEN a ? k AND b ? k THEN
            jsonb_build_array(
                least((a -> k ->> 0)::float8, (b -> k ->> 0)::float8),
                greatest((a -> k ->> 1)::float8, (b -> k ->> 1)::float8),
                (a -> k ->> 2)::float8 + (b -> k ->> 2)::float8,
                (a -> k ->> 3)::bigint + (b -> k ->> 3)::bigint)
            || CASE WHEN jsonb_array_length(a -> k) = 6 AND jsonb_array_length(b -> k) = 6
                    THEN jsonb_build_array(
                        (a -> k ->> 4)::float8 + (b -> k ->> 4)::float8,
                        (a -> k ->> 5)::float8 + (b -> k ->> 5)::float8)
                    ELSE '[]'::jsonb END
        WHEN a ? k THEN a -> k
        ELSE b -> k END)
    FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) AS keys(k)
$$;

-- A sensor's catalogue entry for a station: its organisation's own, else the default.
CREATE VIEW catalogue.station_sensors AS
SELECT st.station_id, c.sensor, c.display_name, c.unit, c.kind, c.valid_min, c.valid_max,
       c.decimals
FROM ingest.stations st
JOIN catalogue.sensors c ON c.org_id IN (st.org_id, '')
WHERE c.org_id = st.org_id
   OR NOT EXISTS (SELECT 1 FROM catalogue.sensors o
                  WHERE o.org_id = st.org_id AND o.sensor = c.sensor);

-- Degrees onto [0, 360) (a rounding that lands on 360 is north, 0).
CREATE FUNCTION telemetry.compass(degrees float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN d >= 360 THEN 0 ELSE d END
    FROM (SELECT degrees - 360 * floor(degrees / 360) AS d) x
$$;

-- The vector mean of `n` directions from the sums of their sines and cosines; NULL when
-- they cancel out (350° and 170°: no mean direction, rather than a made-up north).
CREATE FUNCTION telemetry.mean_direction(sines float8, cosines float8, n float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN sqrt(sines * sines + cosines * cosines) > 1e-9 * n
                THEN telemetry.compass(degrees(atan2(sines, cosines))) END
$$;

CREATE FUNCTION telemetry.kind_value(stats jsonb, kind text, seconds float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'accumulation' THEN (stats ->> 2)::float8
        WHEN 'angle' THEN CASE WHEN jsonb_array_length(stats) = 6 THEN telemetry.mean_direction(
            (stats ->> 4)::float8, (stats ->> 5)::float8, (stats ->> 3)::float8) END
        WHEN 'state' THEN (stats ->> 1)::float8
        WHEN 'counter' THEN ((stats ->> 1)::float8 - (stats ->> 0)::float8) / seconds
        ELSE (stats ->> 2)::float8 / (stats ->> 3)::float8 END
$$;

CREATE OR REPLACE VIEW telemetry.readings_1m AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count,
       coalesce(c.kind, 'unknown') AS kind,
       coalesce(c.unit, '') AS unit,
       telemetry.kind_value(s.value, c.kind, 60) AS value
FROM telemetry.station_rollup_1m r CROSS JOIN LATERAL jsonb_each(r.stats) AS s
LEFT JOIN catalogue.station_sensors c ON c.station_id = r.station_id AND c.sensor = s.key;

CREATE OR REPLACE VIEW telemetry.readings_1h AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count,
       coalesce(c.kind, 'unknown') AS kind,
       coalesce(c.unit, '') AS unit,
       telemetry.kind_value(s.value, c.kind, 3600) AS value
FROM telemetry.station_rollup_1h r CROSS JOIN LATERAL jsonb_each(r.stats) AS s
LEFT JOIN catalogue.station_sensors c ON c.station_id = r.station_id AND c.sensor = s.key;

CREATE OR REPLACE VIEW telemetry.readings_6h AS
SELECT r.station_id, r.bucket, s.key AS sensor,
       (s.value ->> 2)::float8 / (s.value ->> 3)::float8 AS avg,
       (s.value ->> 0)::float8 AS min,
       (s.value ->> 1)::float8 AS max,
       (s.value ->> 3)::bigint AS count,
       coalesce(c.kind, 'unknown') AS kind,
       coalesce(c.unit, '') AS unit,
       telemetry.kind_value(s.value, c.kind, 21600) AS value
FROM telemetry.station_rollup_6h r CROSS JOIN LATERAL jsonb_each(r.stats) AS s
LEFT JOIN catalogue.station_sensors c ON c.station_id = r.station_id AND c.sensor = s.key;

CREATE OR REPLACE VIEW telemetry.readings AS
SELECT r.station_id,
       r.ts,
       v.key                     AS sensor,
       v.value::double precision AS value,
       coalesce(c.unit, '')      AS unit,
       coalesce(c.kind, 'unknown') AS kind,
       coalesce(v.value::double precision < c.valid_min
                OR v.value::double precision > c.valid_max, false) AS out_of_range
FROM telemetry.station_readings AS r
CROSS JOIN LATERAL jsonb_each_text(r."values") AS v(key, value)
LEFT JOIN catalogue.station_sensors c ON c.station_id = r.station_id AND c.sensor = v.key;

COMMENT ON VIEW telemetry.readings IS
    'One row per (station_id, ts, sensor). Stable contract: columns station_id text, '
    'ts timestamptz, sensor text, value double precision (NULL when the sensor sent null), '
    'then unit, kind and out_of_range from the sensor catalogue.';
