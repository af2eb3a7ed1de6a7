-- Ingest receipts are written by the stream processors from the messages they store
-- (each message carries its ingest's counts), and idempotency keys live in the
-- gateway's local store: the gateway's request path never waits on the database.
ALTER TABLE ingest.ingests ALTER COLUMN response_time_ms DROP NOT NULL;
DROP TABLE IF EXISTS ingest.idempotency_keys;
