import type { Pool } from 'pg';
import type { Directory } from '../billing/cdr/attribution';

/** Who owns which number and account code, loaded once per import: small beside any CDR file. */
export async function loadDirectory(pool: Pool): Promise<Directory & { subscriberCount: number }> {
  const [subscribers, numbers] = await Promise.all([
    pool.query('SELECT id, timezone, account_code FROM subscribers'),
    pool.query('SELECT number, subscriber_id FROM subscriber_numbers'),
  ]);
  const zones = new Map<string, string>();
  const byAccountCode = new Map<string, string>();
  for (const row of subscribers.rows) {
    zones.set(row.id, row.timezone);
    if (row.account_code) byAccountCode.set(row.account_code, row.id);
  }
  const byNumber = new Map<string, string>(numbers.rows.map((r) => [r.number as string, r.subscriber_id as string]));
  return {
    subscriberCount: zones.size,
    timezoneOf: (id) => zones.get(id),
    subscriberByAccountCode: (code) => byAccountCode.get(code),
    subscriberByNumber: (number) => byNumber.get(number),
  };
}
