-- What the receiver answered: the first KiB of its response body, shown with
-- the attempt in GET /v1/webhooks/{id}/attempts.
ALTER TABLE triggerd_attempt ADD COLUMN response TEXT NOT NULL DEFAULT '';

-- Retention prunes the oldest attempts first, in small batches.
CREATE INDEX triggerd_attempt_started ON triggerd_attempt (started_at);

-- Failures count from the attempt after this id: an operator who re-enables
-- a subscription resets its consecutive failures without deleting history.
ALTER TABLE triggerd_subscription ADD COLUMN failures_after BIGINT NOT NULL DEFAULT 0;
