-- Up Migration
-- Each delivery attempt of an outbox email is committed before the SMTP transaction starts
-- (issue 12, item 13): the attempt holds the email under a lease, renewed while it runs, so two
-- workers never send it at once without a lock held across the SMTP call. An attempt whose outcome
-- was never recorded (worker killed, PostgreSQL lost after the server accepted the message) is
-- found by the next attempt, which counts it in unknown_outcomes: it may have been delivered, and
-- the resend carries the same Message-ID.

ALTER TABLE email_outbox
  -- the attempt in progress (or never concluded): its random token, when it began, and until when
  -- it holds the email; NULL when no attempt is open
  ADD COLUMN attempt_token      uuid,
  ADD COLUMN attempt_started_at timestamptz,
  ADD COLUMN lease_until        timestamptz,
  -- attempts that may have delivered the message although none recorded it as sent
  ADD COLUMN unknown_outcomes   integer NOT NULL DEFAULT 0,
  -- when a permanent refusal (5xx) was recorded: status 'failed', the server's answer in last_error
  ADD COLUMN failed_at          timestamptz;

-- Down Migration
ALTER TABLE email_outbox
  DROP COLUMN attempt_token, DROP COLUMN attempt_started_at, DROP COLUMN lease_until,
  DROP COLUMN unknown_outcomes, DROP COLUMN failed_at;
