-- Polling triggers read the event log after a cursor (docs/design-polling.md).
-- On SQLite the cursor is seq: one writer assigns it inside a transaction
-- that holds the write lock until commit, so seq order is commit order and
-- triggerd_event_tenant_type (tenant_id, type, seq) serves the reads.

-- Retention prunes the oldest events first.
CREATE INDEX triggerd_event_created ON triggerd_event (created_at);

-- Per tenant and event type, the highest cursor retention deleted, so a
-- poller whose state is older learns that it missed events.
CREATE TABLE triggerd_event_pruned (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, type)
);

-- Deployment-wide settings, such as the key that signs polling states, so
-- that every node of a deployment uses the same one.
CREATE TABLE triggerd_setting (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
