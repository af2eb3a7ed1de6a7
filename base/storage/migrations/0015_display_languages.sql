-- The language the dashboard speaks: the user's own, else their organisation's
-- default, else the browser's preference (NULL: none set). An organisation may set
-- a default language without a default time zone.
ALTER TABLE historical.users
    ADD COLUMN language text CHECK (language IN ('en', 'id'));

ALTER TABLE historical.org_settings
    ALTER COLUMN time_zone DROP NOT NULL,
    ADD COLUMN language text CHECK (language IN ('en', 'id'));
