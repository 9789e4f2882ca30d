-- Finds the attempts of given events: a fast-path safety net that comes due
-- after a crash skips the deliveries whose attempt was already recorded.
CREATE INDEX triggerd_attempt_webhook ON triggerd_attempt (webhook_id);
