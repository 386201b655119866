import type { Pool, PoolClient } from 'pg';
import { parseAbuseThresholds } from '../billing/abuse/thresholds';
import type { MinutePlan, PolicyRules, PolicyVersion } from '../billing/policy';
import type { PolicyState } from '../billing/policy-revision';

/** A version as stored, with where it stands in its life (issue 6). */
export interface PolicyRecord extends PolicyVersion {
  state: PolicyState;
  /** The first day it applies to cycles: its effective date, or later when activation was held. */
  activeFrom: string | null;
  basedOn: number | null;
  publishedAt: string;
  publishedBy: string | null;
  activatedAt: string | null;
  activatedBy: string | null;
  supersededAt: string | null;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
}

/** No policy version applies to a day: a fact that waiting does not change. */
export class NoPolicyInEffectError extends Error {}

/**
 * The policy version in effect on a day (YYYY-MM-DD), as the rating reads it: the latest version
 * that became active on or before that day. A scheduled version, even past its effective date
 * while its activation is held, and a cancelled one never apply.
 */
export async function policyInEffectOn(db: Pool, day: string): Promise<PolicyVersion> {
  const { rows } = await db.query(
    `SELECT * FROM policies WHERE state IN ('active', 'superseded') AND active_from <= $1::date
      ORDER BY active_from DESC, version DESC LIMIT 1`,
    [day],
  );
  if (!rows[0]) throw new NoPolicyInEffectError(`no policy version is in effect on ${day}; run \`billing db migrate\` to seed the default policy`);
  return rulesOf(fromRow(rows[0]));
}

/**
 * The day the first policy version took effect (YYYY-MM-DD): no month before it can be rated, so
 * no service start or close may lie before it (billing/validation.ts).
 */
export async function firstPolicyDay(db: Pool): Promise<string> {
  const { rows } = await db.query(`SELECT to_char(min(active_from), 'YYYY-MM-DD') AS day FROM policies WHERE state IN ('active', 'superseded')`);
  if (!rows[0]?.day) throw new Error('no policy version is in effect; run `billing db migrate` to seed the default policy');
  return rows[0].day as string;
}

export async function policyVersion(db: Pool, version: number): Promise<PolicyRecord> {
  const record = await findPolicyVersion(db, version);
  if (!record) throw new Error(`policy version ${version} does not exist`);
  return record;
}

export async function findPolicyVersion(db: Pool | PoolClient, version: number): Promise<PolicyRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM policies WHERE version = $1', [version]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listPolicyVersions(db: Pool): Promise<PolicyRecord[]> {
  const { rows } = await db.query('SELECT * FROM policies ORDER BY version');
  return rows.map(fromRow);
}

/** The active version, on which a new revision is based. */
export async function activePolicy(db: Pool | PoolClient): Promise<PolicyRecord> {
  const { rows } = await db.query(`SELECT * FROM policies WHERE state = 'active' ORDER BY version DESC LIMIT 1`);
  if (!rows[0]) throw new Error('no policy version is active; run `billing db migrate` to seed the default policy');
  return fromRow(rows[0]);
}

export async function scheduledPolicy(db: Pool | PoolClient): Promise<PolicyRecord | undefined> {
  const { rows } = await db.query(`SELECT * FROM policies WHERE state = 'scheduled'`);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export class RevisionInFlightError extends Error {}

/** The number the next published version gets: after the last one, whatever its state (versions are never deleted). */
export async function nextPolicyVersion(db: Pool | PoolClient): Promise<number> {
  const { rows } = await db.query('SELECT coalesce(max(version), 0) + 1 AS next FROM policies');
  return Number(rows[0].next);
}

/**
 * Stores a new version as scheduled under `version`, which must be the next one; one scheduled
 * version at a time. Its abuse thresholds are those of the version it is based on.
 */
export async function insertScheduledPolicy(
  db: Pool | PoolClient,
  p: { version: number; rules: PolicyRules; effectiveFrom: string; basedOn: number; publishedBy: string },
): Promise<PolicyRecord> {
  const r = p.rules;
  try {
    const { rows } = await db.query(
      `INSERT INTO policies (version, effective_from, state, included_minutes, overage_rate_micros, rounding_increment_seconds,
         plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, currency, based_on, published_by, abuse_thresholds, payment_terms_days)
       -- the abuse detectors' bounds carry over from the version it is based on
       SELECT $12, $1, 'scheduled', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
              (SELECT abuse_thresholds FROM policies WHERE version = $10), $13
       RETURNING *`,
      [
        p.effectiveFrom,
        r.includedMinutes,
        r.overageRateMicros,
        r.roundingIncrementSeconds,
        r.planStreakCycles,
        JSON.stringify(r.planCatalog),
        r.alertThresholdsPercent,
        r.noticeDays,
        r.currency,
        p.basedOn,
        p.publishedBy,
        p.version,
        r.paymentTermsDays,
      ],
    );
    return fromRow(rows[0]);
  } catch (error) {
    const pg = error as { code?: string; constraint?: string };
    if (pg.code === '23505') {
      throw new RevisionInFlightError(
        pg.constraint === 'policies_pkey'
          ? `policy version ${p.version} was published meanwhile; see \`billing policy list\` and publish again`
          : 'another policy revision is scheduled; see `billing policy list`',
      );
    }
    throw error;
  }
}

/** Makes the version active from `activeFrom` and the one it replaces superseded; idempotent. */
export async function activatePolicyVersion(db: PoolClient, p: { version: number; activeFrom: string; at: Date; by: string }): Promise<void> {
  const { rowCount } = await db.query(`UPDATE policies SET state = 'active', active_from = $2, activated_at = $3, activated_by = $4 WHERE version = $1 AND state = 'scheduled'`, [
    p.version,
    p.activeFrom,
    p.at,
    p.by,
  ]);
  if (rowCount === 0) return;
  await db.query(`UPDATE policies SET state = 'superseded', superseded_at = $2 WHERE state = 'active' AND version <> $1`, [p.version, p.at]);
}

export async function cancelPolicyVersion(db: PoolClient, p: { version: number; at: Date; by: string; reason: string | null }): Promise<void> {
  await db.query(`UPDATE policies SET state = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4 WHERE version = $1 AND state = 'scheduled'`, [
    p.version,
    p.at,
    p.by,
    p.reason,
  ]);
}

/** Only the version and its parameters: what a cycle carries in its history. */
function rulesOf(r: PolicyRecord): PolicyVersion {
  return {
    version: r.version,
    effectiveFrom: r.effectiveFrom,
    includedMinutes: r.includedMinutes,
    overageRateMicros: r.overageRateMicros,
    roundingIncrementSeconds: r.roundingIncrementSeconds,
    planStreakCycles: r.planStreakCycles,
    planCatalog: r.planCatalog,
    alertThresholdsPercent: r.alertThresholdsPercent,
    noticeDays: r.noticeDays,
    paymentTermsDays: r.paymentTermsDays,
    currency: r.currency,
    abuse: r.abuse,
  };
}

const iso = (value: unknown): string | null => (value instanceof Date ? value.toISOString() : (value as string | null));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row as pg returns it; its columns are the migrations'
function fromRow(r: Record<string, any>): PolicyRecord {
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
    paymentTermsDays: r.payment_terms_days,
    currency: r.currency,
    abuse: parseAbuseThresholds(r.abuse_thresholds),
    state: r.state,
    activeFrom: r.active_from ?? null,
    basedOn: r.based_on ?? null,
    publishedAt: iso(r.published_at)!,
    publishedBy: r.published_by ?? null,
    activatedAt: iso(r.activated_at),
    activatedBy: r.activated_by ?? null,
    supersededAt: iso(r.superseded_at),
    cancelledAt: iso(r.cancelled_at),
    cancelledBy: r.cancelled_by ?? null,
    cancelReason: r.cancel_reason ?? null,
  };
}
