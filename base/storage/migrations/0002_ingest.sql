-- Ingest bookkeeping: tokens, station ownership, idempotency keys, ingest status.
CREATE SCHEMA IF NOT EXISTS ingest;

-- Which organisation owns a station; a token writes only its organisation's stations.
CREATE TABLE ingest.stations (
    station_id text PRIMARY KEY,
    org_id     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Write tokens. Only a SHA-256 of the token is stored: tokens are 256-bit random
-- strings, so a fast hash is as safe as a slow one and costs nothing per request.
CREATE TABLE ingest.tokens (
    token_id     uuid PRIMARY KEY,
    org_id       text        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    all_stations boolean     NOT NULL,
    stations     text[]      NOT NULL DEFAULT '{}',
    token_sha256 bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE ingest.idempotency_keys (
    token_id       uuid        NOT NULL REFERENCES ingest.tokens ON DELETE CASCADE,
    key            text        NOT NULL,
    request_sha256 bytea       NOT NULL,
    status_code    integer,                -- NULL while the first request is in flight
    response       jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX ON ingest.idempotency_keys (created_at);

-- One row per accepted request, written by the gateway once Kafka acknowledged it.
CREATE TABLE ingest.ingests (
    ingest_id        uuid PRIMARY KEY,
    org_id           text        NOT NULL,
    token_id         uuid        NOT NULL,
    reading_count    integer     NOT NULL,
    message_count    integer     NOT NULL,
    accepted_at      timestamptz NOT NULL,
    response_time_ms double precision NOT NULL
);
CREATE INDEX ON ingest.ingests (accepted_at);

-- One row per readings message the stream processors finished with, written in the
-- same transaction as its readings; the primary key makes a redelivered message count once.
CREATE TABLE ingest.persisted_messages (
    ingest_id     uuid        NOT NULL,
    station_id    text        NOT NULL,
    chunk         integer     NOT NULL,
    persisted     integer     NOT NULL,  -- readings now in the database (new or already there)
    dead_lettered integer     NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ingest_id, station_id, chunk)
);
