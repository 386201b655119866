/** Applies the schema migrations (node-pg-migrate, SQL files in db/migrations) and seeds policy 1. */
import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import { INITIAL_POLICY } from '../billing/policy';

/** The SQL files stay in the sources: compiled into dist/db, this module reads them from db/migrations. */
export const MIGRATIONS_DIR = path.resolve(__dirname, __filename.endsWith('.js') ? '../../db/migrations' : 'migrations');

export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    log,
    checkOrder: true,
  });
  await seedInitialPolicy(databaseUrl);
  return applied.map((m) => m.name);
}

async function seedInitialPolicy(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const p = INITIAL_POLICY;
    await client.query(
      `INSERT INTO policies (version, effective_from, state, included_minutes, overage_rate_micros,
         rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent,
         notice_days, currency, active_from)
       VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $2)
       ON CONFLICT (version) DO NOTHING`,
      [p.version, p.effectiveFrom, p.includedMinutes, p.overageRateMicros, p.roundingIncrementSeconds,
        p.planStreakCycles, JSON.stringify(p.planCatalog), p.alertThresholdsPercent, p.noticeDays, p.currency],
    );
  } finally {
    await client.end();
  }
}
