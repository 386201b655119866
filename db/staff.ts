import type { Pool } from 'pg';

export interface StaffMember {
  id: string;
  email: string;
  name: string | null;
  active: boolean;
}

export async function insertStaff(pool: Pool, member: { id: string; email: string; name?: string }): Promise<boolean> {
  const { rowCount } = await pool.query('INSERT INTO support_staff (id, email, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
    member.id,
    member.email,
    member.name ?? null,
  ]);
  return rowCount === 1;
}

export async function listStaff(pool: Pool): Promise<StaffMember[]> {
  const { rows } = await pool.query('SELECT id, email, name, active FROM support_staff ORDER BY id');
  return rows as StaffMember[];
}

export async function getStaffMember(pool: Pool, id: string): Promise<StaffMember | undefined> {
  const { rows } = await pool.query('SELECT id, email, name, active FROM support_staff WHERE id = $1', [id]);
  return rows[0] as StaffMember | undefined;
}
