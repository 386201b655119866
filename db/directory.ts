import type { Pool } from 'pg';
import { directoryOf, type Directory } from '../billing/cdr/attribution';

/** Who owns which number and account code, loaded once per import: small beside any CDR file. */
export async function loadDirectory(pool: Pool): Promise<Directory & { subscriberCount: number }> {
  const [subscribers, numbers] = await Promise.all([
    pool.query('SELECT id, timezone, account_code AS "accountCode" FROM subscribers'),
    pool.query('SELECT number, subscriber_id AS "subscriberId" FROM subscriber_numbers'),
  ]);
  return directoryOf(subscribers.rows, numbers.rows);
}
