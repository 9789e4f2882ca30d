-- Rotating a subscription's secret keeps the previous one until its grace
-- period ends; deliveries meanwhile carry a signature with each, so a
-- receiver still verifying with the old secret keeps working.
ALTER TABLE triggerd_subscription ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE triggerd_subscription ADD COLUMN previous_secret_until INTEGER;
