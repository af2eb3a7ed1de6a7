-- Roles beyond reading one's granted stations: `operator` sees the operations view
-- (firing alerts, lag, rates, dead letters, job queue wait: GET /v1/operations).
ALTER TABLE historical.users ADD COLUMN roles text[] NOT NULL DEFAULT '{}'
    CONSTRAINT users_roles_known CHECK (roles <@ ARRAY['operator']::text[]);
