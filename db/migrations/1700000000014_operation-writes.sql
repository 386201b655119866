-- Up Migration
-- The first write of a multi-step operation run as a workflow (onboarding a subscriber, recording
-- a limit request): kept once per workflow run, with what it returned, so an activity retried after
-- a crash between its commit and its report returns the same answer instead of writing again.

CREATE TABLE operation_writes (
  key text PRIMARY KEY,
  result jsonb NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE operation_writes;
