-- The sensor catalogue: per organisation, what each sensor is (display name, unit,
-- valid range, decimals) and how it aggregates (kind). Rows of org_id '' are the
-- defaults every organisation starts from; `prepare_database` keeps them equal to
-- schemas/sensors.py's DEFAULT_SENSORS. An organisation's row overrides the default.
CREATE SCHEMA IF NOT EXISTS catalogue;

CREATE TABLE catalogue.sensors (
    org_id       text     NOT NULL,
    sensor       text     NOT NULL,
    display_name text     NOT NULL,
    unit         text     NOT NULL DEFAULT '',
    kind         text     NOT NULL CHECK (kind IN
                     ('instantaneous', 'accumulation', 'angle', 'counter', 'state')),
    valid_min    float8,
    valid_max    float8,
    decimals     smallint NOT NULL DEFAULT 1 CHECK (decimals BETWEEN 0 AND 6),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sensor),
    CHECK (valid_min IS NULL OR valid_max IS NULL OR valid_min < valid_max)
);

-- When each organisation's catalogue last changed: a finished job's result (its units,
-- kinds and values) is reused only if it is newer.
CREATE TABLE catalogue.org_changes (
    org_id     text PRIMARY KEY,
    changed_at timestamptz NOT NULL
);

-- org-admin manages the organisation's catalogue (and, later, its alarm rules).
ALTER TABLE historical.users DROP CONSTRAINT users_roles_known;
ALTER TABLE historical.users ADD CONSTRAINT users_roles_known
    CHECK (roles <@ ARRAY['operator', 'org-admin']::text[]);
