-- Up Migration
-- Abuse prevention (DESIGN, "abuse"; issue 7): the detectors' thresholds per policy version, the
-- findings of the daily scan, the cases support decides, their trail, the holds (suspensions and
-- terminations) a decision puts on an account, and the detectors support muted by dismissing.

-- The defaults are billing/abuse/thresholds.ts DEFAULT_ABUSE_THRESHOLDS; db/policies.ts checks
-- every row with AbuseThresholdsSchema when it reads it.
ALTER TABLE policies ADD COLUMN abuse_thresholds jsonb NOT NULL DEFAULT '{
  "excessiveUsePercent": 300, "roundTheClockMinutesPerDay": 1080, "roundTheClockActiveHoursPerDay": 24,
  "simultaneousCallsMax": 4, "dialerShortCallSeconds": 10, "dialerShortCallsPerDay": 200,
  "suddenChangePercent": 500, "suddenChangeMinimumMinutesPerDay": 240, "suddenChangeTrailingDays": 30,
  "suddenChangeMinimumHistoryDays": 7, "dismissMuteDays": 30}';

CREATE SEQUENCE abuse_case_numbers;

-- One case per subscriber at a time gathers their findings until support decides it.
-- open: awaiting a decision; suspended: a hold is in force; resumed: a timed suspension ended;
-- terminated, dismissed: decided and closed.
CREATE TABLE abuse_cases (
  id            text PRIMARY KEY,
  subscriber_id text NOT NULL REFERENCES subscribers (id),
  state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'suspended', 'resumed', 'terminated', 'dismissed')),
  action        text CHECK (action IN ('suspend', 'terminate', 'dismiss')),
  reviewer      text REFERENCES support_staff (id),
  reason        text,
  -- a timed suspension ends at this instant (the start of the decision's `until` day in the subscriber's zone)
  until_at      timestamptz,
  decided_at    timestamptz,
  closed_at     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- New findings join the subscriber's case that is still open or suspended, never a second one.
CREATE UNIQUE INDEX abuse_cases_one_current ON abuse_cases (subscriber_id) WHERE state IN ('open', 'suspended');
CREATE INDEX abuse_cases_state ON abuse_cases (state, created_at);

-- A finding is opened once per subscriber, detector and local day: its key is `subscriber:detector:day`.
CREATE TABLE abuse_findings (
  key           text PRIMARY KEY,
  case_id       text NOT NULL REFERENCES abuse_cases (id),
  subscriber_id text NOT NULL REFERENCES subscribers (id),
  detector      text NOT NULL,
  day           date NOT NULL,
  summary       text NOT NULL,
  evidence      jsonb NOT NULL,
  -- set once the case's workflow has been told (started or signalled)
  announced_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX abuse_findings_case ON abuse_findings (case_id, day);
CREATE INDEX abuse_findings_unannounced ON abuse_findings (case_id) WHERE announced_at IS NULL;

-- The trail: opened, finding, reminded, suspended, resumed, terminated, dismissed, invalid-decision.
CREATE TABLE abuse_case_events (
  seq     bigserial,
  key     text PRIMARY KEY,
  case_id text NOT NULL REFERENCES abuse_cases (id),
  at      timestamptz NOT NULL,
  actor   text NOT NULL,
  kind    text NOT NULL CHECK (kind IN ('opened', 'finding', 'reminded', 'suspended', 'resumed', 'terminated', 'dismissed', 'invalid-decision')),
  detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX abuse_case_events_case ON abuse_case_events (case_id, at);

-- A hold on an account from a decision: a suspension (until `until_at`, or until lifted) or a
-- termination (for good). `ended_at` is set when a suspension is lifted.
CREATE TABLE account_holds (
  case_id       text PRIMARY KEY REFERENCES abuse_cases (id),
  subscriber_id text NOT NULL REFERENCES subscribers (id),
  kind          text NOT NULL CHECK (kind IN ('suspended', 'terminated')),
  starts_at     timestamptz NOT NULL,
  until_at      timestamptz,
  ended_at      timestamptz,
  reason        text NOT NULL
);
CREATE INDEX account_holds_subscriber ON account_holds (subscriber_id, starts_at);

-- Detectors support dismissed: quiet for the subscriber for the policy's dismissMuteDays from `day`.
-- A dismissal writes two days per detector: its case's last finding of it (so a rescan of the
-- days before the decision opens nothing) and the subscriber's local day of the decision.
CREATE TABLE abuse_mutes (
  case_id       text NOT NULL REFERENCES abuse_cases (id),
  subscriber_id text NOT NULL REFERENCES subscribers (id),
  detector      text NOT NULL,
  day           date NOT NULL,
  PRIMARY KEY (case_id, detector, day)
);
CREATE INDEX abuse_mutes_subscriber ON abuse_mutes (subscriber_id, day);

-- Calls of a held account still arrive (the switch may not have consulted the list yet): they are
-- kept, billed as usual, and flagged here by the hold in force when they began. A view, not a
-- column, so the import's bulk path is untouched.
CREATE VIEW calls_with_flags AS
SELECT c.*, h.case_id AS hold_case_id, h.kind AS hold_kind, h.case_id IS NOT NULL AS flagged_suspended
  FROM calls c
  LEFT JOIN LATERAL (
    SELECT case_id, kind FROM account_holds h
     WHERE h.subscriber_id = c.subscriber_id AND c.started_at >= h.starts_at
       AND c.started_at < least(coalesce(h.until_at, 'infinity'), coalesce(h.ended_at, 'infinity'))
     ORDER BY h.starts_at DESC LIMIT 1
  ) h ON true;

-- What a switch consults before it connects a call: every number and account code of an account
-- under a hold in force now, with when a suspension ends (NULL: until support lifts it, or for good).
CREATE VIEW suspended_accounts AS
SELECT h.subscriber_id, h.kind AS status, n.number, s.account_code, h.starts_at AS since, h.until_at AS until, h.case_id
  FROM account_holds h
  JOIN subscribers s ON s.id = h.subscriber_id
  LEFT JOIN subscriber_numbers n ON n.subscriber_id = h.subscriber_id
 WHERE h.ended_at IS NULL AND (h.until_at IS NULL OR h.until_at > now());

-- Down Migration
DROP VIEW suspended_accounts;
DROP VIEW calls_with_flags;
DROP TABLE abuse_mutes;
DROP TABLE account_holds;
DROP TABLE abuse_case_events;
DROP TABLE abuse_findings;
DROP TABLE abuse_cases;
DROP SEQUENCE abuse_case_numbers;
ALTER TABLE policies DROP COLUMN abuse_thresholds;
