-- Up Migration
-- Failed sign-ins at the support console (README, "Signing in"): counted by the login typed and
-- by the address it came from, so that guessing a password is slowed down (billing/sign-in-throttle.ts)
-- whichever console replica answers. Kept a day; a successful sign-in clears its login's.
CREATE TABLE console_sign_in_failures (
  login     text NOT NULL,
  address   text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_sign_in_failures_login ON console_sign_in_failures (login, failed_at);
CREATE INDEX console_sign_in_failures_address ON console_sign_in_failures (address, failed_at);

-- Down Migration
DROP TABLE console_sign_in_failures;
