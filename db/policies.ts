import type { Pool } from 'pg';
import { parseAbuseThresholds } from '../billing/abuse/thresholds';
import type { MinutePlan, PolicyVersion } from '../billing/policy';

/** The policy version in effect on a day (YYYY-MM-DD): the latest non-cancelled one effective by then. */
export async function policyInEffectOn(db: Pool, day: string): Promise<PolicyVersion> {
  const { rows } = await db.query(
    `SELECT * FROM policies WHERE effective_from <= $1::date AND state <> 'cancelled'
      ORDER BY effective_from DESC, version DESC LIMIT 1`,
    [day],
  );
  if (!rows[0]) throw new Error(`no policy version is in effect on ${day}; run \`billing db migrate\` to seed the default policy`);
  return fromRow(rows[0]);
}

export async function policyVersion(db: Pool, version: number): Promise<PolicyVersion> {
  const { rows } = await db.query('SELECT * FROM policies WHERE version = $1', [version]);
  if (!rows[0]) throw new Error(`policy version ${version} does not exist`);
  return fromRow(rows[0]);
}

function fromRow(r: Record<string, any>): PolicyVersion {
  return {
    version: r.version,
    effectiveFrom: r.effective_from,
    includedMinutes: r.included_minutes,
    overageRateMicros: r.overage_rate_micros,
    roundingIncrementSeconds: r.rounding_increment_seconds,
    planStreakCycles: r.plan_streak_cycles,
    planCatalog: r.plan_catalog as MinutePlan[],
    alertThresholdsPercent: r.alert_thresholds_percent,
    noticeDays: r.notice_days,
    currency: r.currency,
    abuse: parseAbuseThresholds(r.abuse_thresholds),
  };
}
