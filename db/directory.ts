import type { CountryCode } from 'libphonenumber-js';
import type { Pool } from 'pg';
import { directoryOf, type Directory } from '../billing/cdr/attribution';
import { checkCountry } from '../billing/numbers';
import { defaultCountryFromEnv } from '../config';

/**
 * Who owns which number and account code, loaded once per import: small beside any CDR file.
 * `country` reads numbers written without a country code: the source's, else BILLING_DEFAULT_COUNTRY.
 */
export async function loadDirectory(pool: Pool, options: { country?: CountryCode } = {}): Promise<Directory & { subscriberCount: number }> {
  const [subscribers, numbers] = await Promise.all([
    pool.query('SELECT id, timezone, account_code AS "accountCode" FROM subscribers'),
    pool.query('SELECT number, subscriber_id AS "subscriberId" FROM subscriber_numbers'),
  ]);
  return directoryOf(subscribers.rows, numbers.rows, { country: options.country ?? checkCountry(defaultCountryFromEnv()) });
}
