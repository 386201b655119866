/**
 * Who signs in to the console of `billing demo`: a support member `demo` made on the demo's first
 * run with a random password, printed that once (it is stored only as its hash). A later run says
 * how to set a new one.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { getStaffMember, insertStaff, setStaffPasswordHash } from '../db/staff';
import { hashPassword } from './passwords';

export const DEMO_STAFF_ID = 'demo';

export async function ensureDemoStaff(pool: Pool): Promise<string[]> {
  const existing = await getStaffMember(pool, DEMO_STAFF_ID);
  if (existing?.hasPassword) {
    return [`Sign in to the console as "${DEMO_STAFF_ID}" with the password the first demo printed (a new one: \`billing staff password ${DEMO_STAFF_ID}\`).`];
  }
  if (!existing) await insertStaff(pool, { id: DEMO_STAFF_ID, email: 'demo@support.redconnect.example', name: 'Demo Support', role: 'support' });
  const password = randomBytes(12).toString('base64url');
  await setStaffPasswordHash(pool, DEMO_STAFF_ID, await hashPassword(password));
  return [`Sign in to the console as "${DEMO_STAFF_ID}" with the password ${password} (shown this once; a new one: \`billing staff password ${DEMO_STAFF_ID}\`).`];
}

/** For `billing dev`: how to get a member who can sign in, when none can yet. */
export async function staffHint(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query('SELECT 1 FROM support_staff WHERE active AND password_hash IS NOT NULL LIMIT 1');
  if (rows.length > 0) return [];
  return ['No staff member can sign in to the console yet: `billing staff add --id sam --email sam@example.com` then `billing staff password sam`.'];
}
