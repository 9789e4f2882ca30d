-- Console sessions: a browser signed in with an API key holds a random
-- token in a cookie; only the token's hash is stored, with the key it was
-- made from, so every node of a PostgreSQL deployment knows the session, a
-- sign-out anywhere ends it, and a revoked or expired key ends it too.
CREATE TABLE triggerd_console_session (
    token_hash BLOB PRIMARY KEY,
    key_id     TEXT NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES triggerd_tenant (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Expired sessions are deleted oldest first.
CREATE INDEX triggerd_console_session_expires ON triggerd_console_session (expires_at);

-- The overview counts a tenant's subscriptions by trigger and state, and
-- lists its inactive ones, without reading every row.
CREATE INDEX triggerd_subscription_tenant_state ON triggerd_subscription (tenant_id, state, trigger_name);
