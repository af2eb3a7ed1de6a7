-- Historical jobs: dashboard users, their grants, and job state (which survives restarts).
CREATE SCHEMA IF NOT EXISTS historical;

CREATE TABLE historical.users (
    user_id        uuid PRIMARY KEY,
    name           text        NOT NULL UNIQUE,
    org_id         text        NOT NULL,
    all_stations   boolean     NOT NULL,
    stations       text[]      NOT NULL DEFAULT '{}',
    max_range_days integer     NOT NULL DEFAULT 400,
    token_sha256   bytea       NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE historical.jobs (
    job_id           uuid PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES historical.users,
    lane             text        NOT NULL CHECK (lane IN ('interactive', 'bulk')),
    stations         text[]      NOT NULL,
    sensors          text[]      NOT NULL,
    range_start      timestamptz NOT NULL,
    range_end        timestamptz NOT NULL,
    resolution       text        NOT NULL,
    status           text        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    progress         double precision NOT NULL DEFAULT 0,
    rows_done        bigint      NOT NULL DEFAULT 0,
    error            text,
    cancel_requested boolean     NOT NULL DEFAULT false,
    attempts         integer     NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    result_path      text,
    result_expires_at timestamptz,
    queued_at        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX ON historical.jobs (user_id, queued_at DESC);
CREATE INDEX ON historical.jobs (status) WHERE status IN ('queued', 'running');
