-- Up Migration
-- A minute plan no longer needed is removed or stepped down (DESIGN, "minute plan"): a row of
-- 0 minutes and no fee ends the plan from its month; `change` says what each row did.

ALTER TABLE subscriber_plans DROP CONSTRAINT subscriber_plans_minutes_check;
ALTER TABLE subscriber_plans
  ADD CONSTRAINT subscriber_plans_minutes_check CHECK (minutes > 0 OR (minutes = 0 AND fee_cents = 0)),
  ADD COLUMN change text NOT NULL DEFAULT 'added' CHECK (change IN ('added', 'stepped-down', 'removed'));

-- Down Migration
DELETE FROM subscriber_plans WHERE minutes = 0;
ALTER TABLE subscriber_plans DROP COLUMN change;
ALTER TABLE subscriber_plans DROP CONSTRAINT subscriber_plans_minutes_check;
ALTER TABLE subscriber_plans ADD CONSTRAINT subscriber_plans_minutes_check CHECK (minutes > 0);
