-- Console sessions: a browser signed in with an API key holds a random
-- token in a cookie; only the token's hash is stored, with the key it was
-- made from, so every node of a PostgreSQL deployment knows the session, a
-- sign-out anywhere ends it, and a revoked or expired key ends it too.
CREATE TABLE triggerd_console_session (
    token_hash BYTEA PRIMARY KEY,
    key_id     TEXT NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES triggerd_tenant (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Expired sessions are deleted oldest first.
CREATE INDEX triggerd_console_session_expires ON triggerd_console_session (expires_at);

-- The overview counts a tenant's subscriptions by trigger and state, and
-- lists its inactive ones, without reading every row.
CREATE INDEX triggerd_subscription_tenant_state ON triggerd_subscription (tenant_id, state, trigger_name);

-- The console pages through a tenant's subscriptions in id order and its
-- event log newest first: keyset paging reads a page from these, never
-- sorting the tenant's whole list (GET /v1/webhooks, GET /v1/events).
CREATE INDEX triggerd_subscription_tenant_id ON triggerd_subscription (tenant_id, id);
CREATE INDEX triggerd_event_tenant_seq ON triggerd_event (tenant_id, seq);

-- An event is found by its idempotency key alone (GET /v1/events/{id}, the
-- console's search), whatever its type.
CREATE INDEX triggerd_event_key ON triggerd_event (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
