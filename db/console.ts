/**
 * What the support console reads and keeps that no other part does: the subscriber search, the
 * holds on an account, the months that have a close, and the console's sessions (migration 17).
 * Everything else it shows comes from the same db/ modules as the CLI's commands.
 */
import type { Pool } from 'pg';
import type { RecentFailures } from '../billing/sign-in-throttle';
import type { StaffRole } from '../billing/staff-roles';

export interface SubscriberHit {
  id: string;
  name: string | null;
  email: string;
  status: string;
  numbers: string[];
}

/**
 * Subscribers whose id, name or email contains `text` (case-insensitive), or who own `number`
 * (the text normalised as registration normalises it, billing/numbers.ts), exact id first.
 */
export async function searchSubscribers(pool: Pool, query: { text: string; number: string }, limit = 50): Promise<SubscriberHit[]> {
  const pattern = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const { rows } = await pool.query(
    `SELECT s.id, s.name, s.email, s.status,
            coalesce(array_agg(n.number ORDER BY n.number) FILTER (WHERE n.number IS NOT NULL), '{}') AS numbers
       FROM subscribers s LEFT JOIN subscriber_numbers n ON n.subscriber_id = s.id
      WHERE s.id ILIKE $1 OR s.name ILIKE $1 OR s.email ILIKE $1
         OR EXISTS (SELECT 1 FROM subscriber_numbers m WHERE m.subscriber_id = s.id AND m.number IN ($2, $3))
      GROUP BY s.id
      ORDER BY lower(s.id) = lower($3) DESC, s.id
      LIMIT $4`,
    [pattern, query.number, query.text, limit],
  );
  return rows as SubscriberHit[];
}

export interface AccountHold {
  caseId: string;
  kind: 'suspended' | 'terminated';
  startsAt: string;
  untilAt: string | null;
  endedAt: string | null;
  reason: string;
}

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** The holds abuse decisions put on the account, newest first: in force while not ended. */
export async function accountHolds(pool: Pool, subscriberId: string): Promise<AccountHold[]> {
  const { rows } = await pool.query(
    `SELECT case_id AS "caseId", kind, ${ISO('starts_at')} AS "startsAt", ${ISO('until_at')} AS "untilAt", ${ISO('ended_at')} AS "endedAt", reason
       FROM account_holds WHERE subscriber_id = $1 ORDER BY starts_at DESC`,
    [subscriberId],
  );
  return rows as AccountHold[];
}

/** The months a close has asked subscribers to close, or that have invoices, newest first. */
export async function closedPeriods(pool: Pool, limit = 24): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT period FROM (SELECT DISTINCT period FROM close_requests UNION SELECT DISTINCT period FROM invoices) p
      ORDER BY period DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.period as string);
}

/** A signed-in member, as the console's pages need them. */
export interface ConsoleStaff {
  id: string;
  name: string | null;
  email: string;
  role: StaffRole;
}

/** A new session; sessions over for a day (ended or expired) are forgotten on the way. */
export async function createConsoleSession(pool: Pool, session: { tokenSha256: string; staffId: string; expiresAt: Date }): Promise<void> {
  await pool.query(
    `WITH pruned AS (DELETE FROM console_sessions WHERE least(ended_at, expires_at) < now() - interval '1 day')
     INSERT INTO console_sessions (token_sha256, staff_id, expires_at) VALUES ($1, $2, $3)`,
    [session.tokenSha256, session.staffId, session.expiresAt],
  );
}

/** The member of a session that has not ended or expired, while they are active staff. */
export async function staffOfSession(pool: Pool, tokenSha256: string): Promise<ConsoleStaff | undefined> {
  const { rows } = await pool.query(
    `SELECT s.id, s.name, s.email, s.role FROM console_sessions c JOIN support_staff s ON s.id = c.staff_id
      WHERE c.token_sha256 = $1 AND c.ended_at IS NULL AND c.expires_at > now() AND s.active`,
    [tokenSha256],
  );
  return rows[0] as ConsoleStaff | undefined;
}

export async function endConsoleSession(pool: Pool, tokenSha256: string): Promise<void> {
  await pool.query('UPDATE console_sessions SET ended_at = now() WHERE token_sha256 = $1 AND ended_at IS NULL', [tokenSha256]);
}

/** Failed sign-ins within the window for a login and for an address (billing/sign-in-throttle.ts). */
export async function recentSignInFailures(pool: Pool, login: string, address: string, windowMinutes: number): Promise<RecentFailures> {
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE login = $1)::int AS login_count,
            min(failed_at) FILTER (WHERE login = $1) AS login_oldest,
            count(*) FILTER (WHERE address = $2)::int AS address_count,
            min(failed_at) FILTER (WHERE address = $2) AS address_oldest
       FROM console_sign_in_failures
      WHERE (login = $1 OR address = $2) AND failed_at > now() - make_interval(mins => $3)`,
    [login, address, windowMinutes],
  );
  const r = rows[0];
  return {
    login: { count: r.login_count, oldestMs: r.login_oldest ? (r.login_oldest as Date).getTime() : null },
    address: { count: r.address_count, oldestMs: r.address_oldest ? (r.address_oldest as Date).getTime() : null },
  };
}

/** Records a failed sign-in, and forgets those older than a day. */
export async function recordSignInFailure(pool: Pool, login: string, address: string): Promise<void> {
  await pool.query(
    `WITH pruned AS (DELETE FROM console_sign_in_failures WHERE failed_at < now() - interval '1 day')
     INSERT INTO console_sign_in_failures (login, address) VALUES ($1, $2)`,
    [login, address],
  );
}

/** A member signed in: the failures of their login are forgotten (their address's are not). */
export async function clearSignInFailures(pool: Pool, logins: string[]): Promise<void> {
  await pool.query('DELETE FROM console_sign_in_failures WHERE login = ANY($1)', [logins]);
}
