-- triggerd schema, version 1. Times are Unix microseconds (INTEGER) so the
-- same queries serve SQLite and PostgreSQL.
CREATE TABLE triggerd_tenant (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE triggerd_api_key (
    key_hash   BLOB PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES triggerd_tenant (id),
    created_at INTEGER NOT NULL
);

CREATE TABLE triggerd_subscription (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES triggerd_tenant (id),
    trigger_name         TEXT NOT NULL,
    callback_url         TEXT NOT NULL,
    -- callback URLs reach 16,384 characters: uniqueness is on their hash.
    callback_hash        BLOB NOT NULL,
    filters              TEXT NOT NULL,
    secret               TEXT NOT NULL,
    state                TEXT NOT NULL,
    state_reason         TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE UNIQUE INDEX triggerd_subscription_callback
    ON triggerd_subscription (tenant_id, trigger_name, callback_hash)
    WHERE state <> 'deleted';

CREATE INDEX triggerd_subscription_active
    ON triggerd_subscription (tenant_id, trigger_name)
    WHERE state = 'active';

CREATE TABLE triggerd_event (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES triggerd_tenant (id),
    type            TEXT NOT NULL,
    idempotency_key TEXT,
    data            BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE UNIQUE INDEX triggerd_event_idempotency
    ON triggerd_event (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE INDEX triggerd_event_tenant_type ON triggerd_event (tenant_id, type, seq);

CREATE TABLE triggerd_attempt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES triggerd_subscription (id),
    webhook_id      TEXT NOT NULL,
    event_ids       TEXT NOT NULL,
    number          INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    duration_us     INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    error           TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    next_attempt_at INTEGER
);

CREATE INDEX triggerd_attempt_subscription ON triggerd_attempt (subscription_id, id);

-- A subscription's health (last result, failures since the last success) is
-- read from its attempts rather than kept on the subscription row, which
-- every delivery would otherwise update: a hot row under concurrent workers.
CREATE INDEX triggerd_attempt_delivered ON triggerd_attempt (subscription_id, id) WHERE outcome = 'delivered';

-- Events waiting to be sent in a batch-mode subscription's next notification.
CREATE TABLE triggerd_batch_item (
    subscription_id TEXT NOT NULL REFERENCES triggerd_subscription (id),
    event_seq       INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, event_seq)
);
