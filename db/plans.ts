import { inTransaction } from './pool';
import type { Pool } from 'pg';
import type { MinutePlan } from '../billing/policy';
import type { OverageStreak } from '../billing/minute-plans';
import type { EmailContent } from '../billing/emails';
import { limitForPeriod } from '../billing/limits';
import { limitGrantsFor } from './limit-requests';
import { enqueueEmail } from './outbox';

/** The plan a subscriber carries in a month: the latest one effective by then. */
export async function planInEffect(pool: Pool, subscriberId: string, period: string): Promise<MinutePlan | null> {
  const { rows } = await pool.query(
    `SELECT minutes, fee_cents FROM subscriber_plans WHERE subscriber_id = $1 AND effective_period <= $2
      ORDER BY effective_period DESC LIMIT 1`,
    [subscriberId, period],
  );
  return rows[0] ? { minutes: rows[0].minutes, feeCents: Number(rows[0].fee_cents) } : null;
}

/** Records the plan from `effectivePeriod` and queues its email, once: returns the email's key. */
export async function addPlanOnce(
  pool: Pool,
  change: { subscriberId: string; effectivePeriod: string; plan: MinutePlan; streak: OverageStreak; to: string; email: EmailContent },
): Promise<string> {
  const key = `minute-plan:${change.subscriberId}:${change.effectivePeriod}`;
  return inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO subscriber_plans (subscriber_id, effective_period, minutes, fee_cents, reason)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [change.subscriberId, change.effectivePeriod, change.plan.minutes, change.plan.feeCents, JSON.stringify(change.streak)],
    );
    await enqueueEmail(client, { key, purpose: 'minute-plan', subscriberId: change.subscriberId, to: change.to, ...change.email });
    return key;
  });
}

/**
 * The allowance terms of a subscriber's month besides the policy: the plan they carry and the
 * approved limit, if any (DESIGN, "allowance").
 */
export async function allowanceTerms(pool: Pool, subscriberId: string, period: string): Promise<{ plan: MinutePlan | undefined; limitMinutes: number | undefined }> {
  const [plan, grants] = await Promise.all([planInEffect(pool, subscriberId, period), limitGrantsFor(pool, subscriberId)]);
  return { plan: plan ?? undefined, limitMinutes: limitForPeriod(grants, period) };
}
