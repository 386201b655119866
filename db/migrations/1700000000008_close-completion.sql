-- Up Migration
-- The month close's completion (issue 12, items 3, 4 and 16): subscribers whose close of a month
-- failed for good, and the subscribers a close has asked to close, so that one added after the
-- fan-out passed their id is asked too, once.

-- A subscriber's close that met a fact it can never process (e.g. no policy version in effect on
-- its service start): written by the subscriber's workflow through the activity recordCloseFailure.
-- The close counts the subscriber as finished, with this failure, and lists it in its summary.
CREATE TABLE close_failures (
  subscriber_id text NOT NULL,
  period        text NOT NULL,
  reason        text NOT NULL,
  failed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscriber_id, period)
);

-- The entities a close of `period` has signalled to close it (the fan-out, then the waiting
-- phase's look for subscribers nobody asked yet).
CREATE TABLE close_requests (
  period        text NOT NULL,
  subscriber_id text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (period, subscriber_id)
);

-- Down Migration
DROP TABLE close_requests;
DROP TABLE close_failures;
