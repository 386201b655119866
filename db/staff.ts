import type { Pool } from 'pg';
import type { StaffRole } from '../billing/staff-roles';

export interface StaffMember {
  id: string;
  email: string;
  name: string | null;
  active: boolean;
  role: StaffRole;
  /** Whether the member has a password to sign in to the console with (never the hash itself). */
  hasPassword: boolean;
}

const COLUMNS = 'id, email, name, active, role, password_hash IS NOT NULL AS "hasPassword"';

export async function insertStaff(pool: Pool, member: { id: string; email: string; name?: string; role?: StaffRole }): Promise<boolean> {
  const { rowCount } = await pool.query('INSERT INTO support_staff (id, email, name, role) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
    member.id,
    member.email,
    member.name ?? null,
    member.role ?? 'support',
  ]);
  return rowCount === 1;
}

export async function listStaff(pool: Pool): Promise<StaffMember[]> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM support_staff ORDER BY id`);
  return rows as StaffMember[];
}

export async function getStaffMember(pool: Pool, id: string): Promise<StaffMember | undefined> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM support_staff WHERE id = $1`, [id]);
  return rows[0] as StaffMember | undefined;
}

/** Sets (or, with null, removes) a member's password hash; false when there is no such member. */
export async function setStaffPasswordHash(pool: Pool, id: string, passwordHash: string | null): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE support_staff SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
  return rowCount === 1;
}

/** A member by id or email (case-insensitive), with the password hash the sign-in checks. */
export async function staffForSignIn(pool: Pool, login: string): Promise<(StaffMember & { passwordHash: string | null }) | undefined> {
  const { rows } = await pool.query(
    `SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM support_staff
      WHERE id = $1 OR lower(email) = lower($1)
      ORDER BY id = $1 DESC, id LIMIT 1`,
    [login],
  );
  return rows[0] as (StaffMember & { passwordHash: string | null }) | undefined;
}

/** Turns a member's sign-in off (deactivated members decide nothing and their sessions end) or on again. */
export async function setStaffActive(pool: Pool, id: string, active: boolean): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE support_staff SET active = $2 WHERE id = $1', [id, active]);
  return rowCount === 1;
}
