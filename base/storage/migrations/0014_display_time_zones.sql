-- The time zone the dashboard shows times in: the user's own, else their
-- organisation's default, else UTC (IANA names, e.g. Asia/Jakarta).
ALTER TABLE historical.users ADD COLUMN time_zone text;

CREATE TABLE historical.org_settings (
    org_id    text PRIMARY KEY,
    time_zone text NOT NULL
);
