-- Alarms. alarms.rules is the truth about each organisation's rules (the API
-- publishes every change to scada.alarm-rules.v1 for the evaluators). alarms.events
-- is the audit trail: every transition as the alarm sink stored it, once (its
-- event_id). alarms.current is each alarm's ISA-18.2 state, folded from those events
-- by the same transaction that stores them.
CREATE SCHEMA IF NOT EXISTS alarms;

CREATE TABLE alarms.rules (
    org_id     text        NOT NULL,
    rule_id    text        NOT NULL,
    spec       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, rule_id)
);

CREATE TABLE alarms.events (
    at            timestamptz NOT NULL,
    event_id      uuid        NOT NULL,
    type          text        NOT NULL CHECK (type IN
                      ('raised', 'cleared', 'acknowledged', 'shelved', 'unshelved')),
    org_id        text        NOT NULL,
    alarm_id      text        NOT NULL,
    rule_id       text        NOT NULL,
    station_id    text        NOT NULL,
    sensor        text,
    condition     text        NOT NULL,
    severity      text        NOT NULL,
    value         float8,
    "limit"       float8,
    by            text,
    reason        text,
    shelved_until timestamptz,
    emitted_at    timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    -- Whether it changed the alarm's state: a second "raised" of an alarm already
    -- active (a restarted evaluator's replay), an acknowledgement of an acknowledged
    -- alarm, is kept for the record but changes nothing.
    applied       boolean     NOT NULL
);
SELECT create_hypertable('alarms.events', by_range('at', INTERVAL '30 days'));
CREATE UNIQUE INDEX events_once ON alarms.events (event_id, at);
CREATE INDEX events_by_station ON alarms.events (org_id, station_id, at DESC);
CREATE INDEX events_by_alarm ON alarms.events (org_id, alarm_id, at DESC);

CREATE TABLE alarms.current (
    org_id          text        NOT NULL,
    alarm_id        text        NOT NULL,
    -- A short id for URLs (POST /v1/alarms/{key}/acknowledge): alarm ids hold / and :.
    key             uuid        NOT NULL UNIQUE,
    rule_id         text        NOT NULL,
    station_id      text        NOT NULL,
    sensor          text,
    condition       text        NOT NULL,
    severity        text        NOT NULL,
    active          boolean     NOT NULL,
    acknowledged    boolean     NOT NULL,
    raised_at       timestamptz,
    cleared_at      timestamptz,
    value           float8,
    "limit"         float8,
    acknowledged_by text,
    acknowledged_at timestamptz,
    shelved_until   timestamptz,
    shelved_by      text,
    shelve_reason   text,
    updated_at      timestamptz NOT NULL,
    state           text        GENERATED ALWAYS AS (
        CASE
            WHEN active AND NOT acknowledged THEN 'active_unacknowledged'
            WHEN active THEN 'active_acknowledged'
            WHEN NOT acknowledged THEN 'returned_unacknowledged'
            ELSE 'normal'
        END) STORED,
    PRIMARY KEY (org_id, alarm_id)
);
CREATE INDEX current_by_station ON alarms.current (org_id, station_id);
CREATE INDEX current_shelved ON alarms.current (shelved_until) WHERE shelved_until IS NOT NULL;

-- The alarm sink's offsets are Kafka's; nothing else to keep.
