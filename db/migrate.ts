/** Applies the schema migrations (node-pg-migrate, SQL files in db/migrations) and seeds policy 1. */
import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import { checkCountry, normalizeNumber } from '../billing/numbers';
import { INITIAL_POLICY } from '../billing/policy';
import { defaultCountryFromEnv } from '../config';

/** The SQL files stay in the sources: compiled into dist/db, this module reads them from db/migrations. */
export const MIGRATIONS_DIR = path.resolve(__dirname, __filename.endsWith('.js') ? '../../db/migrations' : 'migrations');

/**
 * `notice` hears what a person should know of the data steps (numbers rewritten in E.164, a clash
 * left as it is): stderr unless told otherwise.
 */
export async function migrate(
  databaseUrl: string,
  log: (line: string) => void = () => undefined,
  notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    log,
    checkOrder: true,
  });
  await seedInitialPolicy(databaseUrl);
  await normaliseStoredNumbers(databaseUrl, notice);
  return applied.map((m) => m.name);
}

/**
 * Registered numbers in E.164 (billing/numbers.ts), as `subscribers add` now stores them: rows
 * written before, in whatever form, are rewritten in BILLING_DEFAULT_COUNTRY. Idempotent (a
 * normalised number normalises to itself), so it runs with every migrate. A number whose
 * normal form another row already holds is left as it is and named in the log: two subscribers
 * registered one number in two writings, which a person has to settle.
 */
export async function normaliseStoredNumbers(databaseUrl: string, log: (line: string) => void = () => undefined, country = defaultCountryFromEnv()): Promise<number> {
  const code = checkCountry(country);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ number: string; subscriber_id: string }>('SELECT number, subscriber_id FROM subscriber_numbers ORDER BY number FOR UPDATE');
    const held = new Map(rows.map((r) => [r.number, r.subscriber_id]));
    let changed = 0;
    for (const row of rows) {
      const normal = normalizeNumber(row.number, code);
      if (normal === row.number) continue;
      const owner = held.get(normal);
      if (owner !== undefined) {
        log(`subscriber_numbers: ${JSON.stringify(row.number)} (${row.subscriber_id}) is ${normal} in E.164, already registered to ${owner}: left as it is; remove one of them`);
        continue;
      }
      await client.query('UPDATE subscriber_numbers SET number = $2 WHERE number = $1', [row.number, normal]);
      held.delete(row.number);
      held.set(normal, row.subscriber_id);
      changed += 1;
    }
    await client.query('COMMIT');
    if (changed > 0) log(`subscriber_numbers: ${changed} number(s) rewritten in E.164 (country ${code})`);
    return changed;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

async function seedInitialPolicy(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const p = INITIAL_POLICY;
    await client.query(
      `INSERT INTO policies (version, effective_from, state, included_minutes, overage_rate_micros,
         rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent,
         notice_days, currency, active_from, payment_terms_days)
       VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $2, $11)
       ON CONFLICT (version) DO NOTHING`,
      [
        p.version,
        p.effectiveFrom,
        p.includedMinutes,
        p.overageRateMicros,
        p.roundingIncrementSeconds,
        p.planStreakCycles,
        JSON.stringify(p.planCatalog),
        p.alertThresholdsPercent,
        p.noticeDays,
        p.currency,
        p.paymentTermsDays,
      ],
    );
  } finally {
    await client.end();
  }
}
