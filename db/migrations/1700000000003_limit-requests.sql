-- Up Migration
-- Limit-increase requests (DESIGN, "limit increase"): a subscriber asks for a higher monthly limit,
-- support decides; every step is kept with its time and actor, and an approved limit is a grant
-- the rating reads for the months it covers.

CREATE SEQUENCE limit_request_numbers;

CREATE TABLE limit_requests (
  id                text PRIMARY KEY,
  subscriber_id     text NOT NULL REFERENCES subscribers (id),
  requested_minutes integer NOT NULL CHECK (requested_minutes > 0),
  reason            text NOT NULL CHECK (length(btrim(reason)) > 0),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  approved_minutes  integer CHECK (approved_minutes > 0),
  -- the last month an approved limit applies; NULL: until changed
  until_period      text CHECK (until_period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  reviewer          text REFERENCES support_staff (id),
  decision_note     text,
  decided_at        timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);
-- One pending request per subscriber at a time.
CREATE UNIQUE INDEX limit_requests_one_pending ON limit_requests (subscriber_id) WHERE status = 'pending';
CREATE INDEX limit_requests_status ON limit_requests (status, created_at);

-- The trail: requested, reminded, approved, rejected, expired, applied, ended, invalid-decision.
-- `key` makes each step idempotent (a retried activity records it once).
CREATE TABLE limit_request_events (
  seq        bigserial,
  key        text PRIMARY KEY,
  request_id text NOT NULL REFERENCES limit_requests (id),
  at         timestamptz NOT NULL,
  actor      text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('requested', 'reminded', 'approved', 'rejected', 'expired', 'applied', 'ended', 'invalid-decision')),
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX limit_request_events_request ON limit_request_events (request_id, at);

-- Approved limits, read by the rating: `minutes` replace the policy's included minutes from
-- `from_period` to `until_period` (both included; NULL: no end).
CREATE TABLE subscriber_limits (
  request_id    text PRIMARY KEY REFERENCES limit_requests (id),
  subscriber_id text NOT NULL REFERENCES subscribers (id),
  from_period   text NOT NULL CHECK (from_period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  until_period  text CHECK (until_period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  minutes       integer NOT NULL CHECK (minutes > 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (until_period IS NULL OR until_period >= from_period)
);
CREATE INDEX subscriber_limits_subscriber ON subscriber_limits (subscriber_id, from_period);

-- Down Migration
DROP TABLE subscriber_limits;
DROP TABLE limit_request_events;
DROP TABLE limit_requests;
DROP SEQUENCE limit_request_numbers;
