-- Up Migration
-- Minute plans added for recurring overage, and late-usage adjustments (DESIGN, "minute plan",
-- "late usage").

CREATE TABLE subscriber_plans (
  subscriber_id    text NOT NULL REFERENCES subscribers (id),
  -- the first month the plan is charged and its minutes count
  effective_period text NOT NULL CHECK (effective_period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  minutes          integer NOT NULL CHECK (minutes > 0),
  fee_cents        bigint NOT NULL CHECK (fee_cents >= 0),
  -- the streak that called for it: its months and their overage minutes
  reason           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscriber_id, effective_period)
);

ALTER TABLE invoices
  ADD COLUMN plan_minutes integer,
  ADD COLUMN plan_fee_cents bigint,
  -- the overage charge of this invoice's own month, before any adjustment
  ADD COLUMN overage_cents bigint NOT NULL DEFAULT 0;

-- What each invoice charged for late calls of an earlier month: that month's overage as
-- re-rated, so the next adjustment charges only what is still missing.
CREATE TABLE invoice_adjustments (
  invoice_id      text NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  adjusted_period text NOT NULL,
  overage_minutes integer NOT NULL,
  amount_cents    bigint NOT NULL,
  PRIMARY KEY (invoice_id, adjusted_period)
);

-- Down Migration
DROP TABLE invoice_adjustments;
ALTER TABLE invoices DROP COLUMN plan_minutes, DROP COLUMN plan_fee_cents, DROP COLUMN overage_cents;
DROP TABLE subscriber_plans;
