-- Up Migration
-- The support console (issue 16, part 2): staff sign in with a role and a password, and their
-- sessions are kept here so that signing out (or deactivating a member) ends them at once.
--
-- role: what a member may do in the console and from the CLI (billing/staff-roles.ts): `support`
-- decides limit requests and abuse cases; `billing-ops` reads month closes and policy versions.
-- Members added before roles existed decided as support, and stay support.
-- password_hash: an Argon2id hash (PHC string); NULL: no password, no sign-in with one (a member
-- may still sign in through the reverse proxy's header when that is configured).
ALTER TABLE support_staff
  ADD COLUMN role text NOT NULL DEFAULT 'support' CHECK (role IN ('support', 'billing-ops')),
  ADD COLUMN password_hash text;

-- A signed-in browser: the cookie carries a random token, this table only its SHA-256, so a copy
-- of the table signs nobody in. A session ends at sign-out (ended_at), at expires_at, or when its
-- member is deactivated (the console checks `active` on every request).
CREATE TABLE console_sessions (
  token_sha256 text PRIMARY KEY,
  staff_id     text NOT NULL REFERENCES support_staff (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz
);
CREATE INDEX console_sessions_staff ON console_sessions (staff_id);

-- Down Migration
DROP TABLE console_sessions;
ALTER TABLE support_staff DROP COLUMN password_hash, DROP COLUMN role;
