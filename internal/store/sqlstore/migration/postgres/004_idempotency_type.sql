-- An idempotency key is the publisher's id for one event of one type: the
-- same id used for order.created and then order.updated names two events,
-- and the second must not be swallowed as a duplicate of the first. The
-- key is unique per (tenant, type) from now on.
DROP INDEX triggerd_event_idempotency;

CREATE UNIQUE INDEX triggerd_event_idempotency
    ON triggerd_event (tenant_id, type, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
