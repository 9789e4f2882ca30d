-- API keys get an id (to list and revoke them by), a name, scopes, an
-- optional expiry and a revocation time. Keys issued before scopes existed
-- could do everything, so they become admin keys: nothing that worked
-- stops working. Their id is derived from the stored hash (never from the
-- key itself, which is not stored).
ALTER TABLE triggerd_api_key ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE triggerd_api_key ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE triggerd_api_key ADD COLUMN scopes TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE triggerd_api_key ADD COLUMN expires_at BIGINT;
ALTER TABLE triggerd_api_key ADD COLUMN revoked_at BIGINT;

UPDATE triggerd_api_key SET id = 'key_' || substr(upper(encode(key_hash, 'hex')), 1, 26) WHERE id = '';

CREATE UNIQUE INDEX triggerd_api_key_id ON triggerd_api_key (id);
CREATE INDEX triggerd_api_key_tenant ON triggerd_api_key (tenant_id, created_at);
