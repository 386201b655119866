-- Up Migration
-- Policy revisions (DESIGN, "policy revision"; issue 6): a version is published as scheduled,
-- every active subscriber is told, and it becomes active on its effective date, or later when
-- the notices could not all go out in time. The rating reads a version only once it is active:
-- `active_from` is the first day it applies to cycles, its effective date when activated on time.

ALTER TABLE policies
  ADD COLUMN active_from     date,
  ADD COLUMN activated_at    timestamptz,
  ADD COLUMN activated_by    text,
  ADD COLUMN superseded_at   timestamptz,
  ADD COLUMN based_on        integer REFERENCES policies (version),
  ADD COLUMN published_by    text,
  ADD COLUMN cancelled_by    text,
  ADD COLUMN cancel_reason   text;
UPDATE policies SET active_from = effective_from WHERE state IN ('active', 'superseded');
ALTER TABLE policies ADD CONSTRAINT policies_active_from CHECK (state NOT IN ('active', 'superseded') OR active_from IS NOT NULL);
-- One revision in flight at a time: a second publish is refused until it is active or cancelled.
CREATE UNIQUE INDEX policies_one_scheduled ON policies ((true)) WHERE state = 'scheduled';
CREATE INDEX policies_in_effect ON policies (active_from) WHERE state IN ('active', 'superseded');

-- A pending email of a cancelled revision is withdrawn: it is never sent.
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_status_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_status_check CHECK (status IN ('pending', 'sent', 'failed', 'withdrawn'));

-- Who is told what about a revision: one row per version, kind and subscriber (NULL for the
-- alerts to billing operations), pointing at its outbox email. `at_publication` marks the
-- subscribers active when it was published: the notice period is counted for them.
CREATE TABLE policy_emails (
  email_key      text PRIMARY KEY REFERENCES email_outbox (idempotency_key),
  version        integer NOT NULL REFERENCES policies (version),
  kind           text NOT NULL CHECK (kind IN ('notice', 'reminder', 'cancellation', 'hold-alert')),
  subscriber_id  text REFERENCES subscribers (id),
  at_publication boolean NOT NULL DEFAULT false,
  queued_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX policy_emails_once ON policy_emails (version, kind, subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE INDEX policy_emails_version ON policy_emails (version, kind);

-- Down Migration
DROP TABLE policy_emails;
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_status_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_status_check CHECK (status IN ('pending', 'sent', 'failed'));
DROP INDEX policies_in_effect;
DROP INDEX policies_one_scheduled;
ALTER TABLE policies DROP CONSTRAINT policies_active_from;
ALTER TABLE policies
  DROP COLUMN active_from, DROP COLUMN activated_at, DROP COLUMN activated_by, DROP COLUMN superseded_at,
  DROP COLUMN based_on, DROP COLUMN published_by, DROP COLUMN cancelled_by, DROP COLUMN cancel_reason;
