-- Polling triggers read the event log after a cursor (docs/design-polling.md).
--
-- On PostgreSQL seq (an identity) is assigned at insert time, but
-- transactions commit in any order: a poll can see seq 10 before seq 9
-- commits, and a cursor on seq would skip 9 for ever. Filtering on an xid
-- horizon does not rescue a seq cursor either: a transaction with a small
-- xid can still insert a large seq late. So the cursor is the inserting
-- transaction's id, then seq: (xid, seq). A poll returns only rows with
-- xid < pg_snapshot_xmin(pg_current_snapshot()); every transaction below
-- that horizon has finished, so that part of the log is final, and paging
-- on (xid, seq) > cursor neither skips nor repeats.
--
-- Existing events get xid 0: they all committed before this migration (it
-- locks the table), so they come first, in seq order. A constant default
-- adds the column without rewriting the table; the real default follows.
ALTER TABLE triggerd_event ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE triggerd_event ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

CREATE INDEX triggerd_event_poll ON triggerd_event (tenant_id, type, xid, seq);

-- Retention prunes the oldest events first.
CREATE INDEX triggerd_event_created ON triggerd_event (created_at);

-- Per tenant and event type, the highest cursor retention deleted, so a
-- poller whose state is older learns that it missed events.
CREATE TABLE triggerd_event_pruned (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    xid       xid8 NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, type)
);

-- Deployment-wide settings, such as the key that signs polling states, so
-- that every node of a deployment uses the same one.
CREATE TABLE triggerd_setting (
    name       TEXT PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
