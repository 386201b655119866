import { inTransaction } from './pool';
import type { Pool } from 'pg';
import type { MinutePlan } from '../billing/policy';
import type { OverageStreak, PlanFitStreak } from '../billing/minute-plans';
import type { EmailContent } from '../billing/emails';
import { enqueueEmail } from './outbox';

/** The plan a subscriber carries in a month: the latest one effective by then (none once removed). */
export async function planInEffect(pool: Pool, subscriberId: string, period: string): Promise<MinutePlan | null> {
  return (await plansInEffect(pool, [subscriberId], [period])).get(planKey(subscriberId, period)) ?? null;
}

export const planKey = (subscriberId: string, period: string): string => `${subscriberId}\u0000${period}`;

/**
 * The plans of many subscribers in many months in one query (the policy preview): keyed by
 * `planKey(subscriber, period)`, only where a plan is carried. The rule is planInEffect's.
 */
export async function plansInEffect(pool: Pool, subscriberIds: readonly string[], periods: readonly string[]): Promise<Map<string, MinutePlan>> {
  const { rows } = await pool.query(
    `SELECT DISTINCT ON (p.subscriber_id, m.period) p.subscriber_id, m.period, p.minutes, p.fee_cents
       FROM unnest($2::text[]) AS m(period)
       JOIN subscriber_plans p ON p.effective_period <= m.period
      WHERE p.subscriber_id = ANY($1::text[])
      ORDER BY p.subscriber_id, m.period, p.effective_period DESC`,
    [subscriberIds, periods],
  );
  const plans = new Map<string, MinutePlan>();
  // A row of 0 minutes is a removal (migration 1700000000009).
  for (const r of rows) if (r.minutes > 0) plans.set(planKey(r.subscriber_id, r.period), { minutes: r.minutes, feeCents: Number(r.fee_cents) });
  return plans;
}

/** Records the plan from `effectivePeriod` and queues its email, once: returns the email's key. */
export async function addPlanOnce(
  pool: Pool,
  change: { subscriberId: string; effectivePeriod: string; plan: MinutePlan; streak: OverageStreak; to: string; email: EmailContent },
): Promise<string> {
  const key = planChangeEmailKey(change.subscriberId, change.effectivePeriod);
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

/** One change of plan per subscriber and month, and one email for it. */
const planChangeEmailKey = (subscriberId: string, effectivePeriod: string): string => `minute-plan:${subscriberId}:${effectivePeriod}`;

/**
 * Ends the plan (`plan` null: a row of 0 minutes) or steps it down from `effectivePeriod`, and
 * queues its email, once: returns the email's key.
 */
export async function reducePlanOnce(
  pool: Pool,
  change: { subscriberId: string; effectivePeriod: string; plan: MinutePlan | null; streak: PlanFitStreak; to: string; email: EmailContent },
): Promise<string> {
  const key = planChangeEmailKey(change.subscriberId, change.effectivePeriod);
  return inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO subscriber_plans (subscriber_id, effective_period, minutes, fee_cents, reason, change)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [change.subscriberId, change.effectivePeriod, change.plan?.minutes ?? 0, change.plan?.feeCents ?? 0, JSON.stringify(change.streak), change.plan ? 'stepped-down' : 'removed'],
    );
    await enqueueEmail(client, { key, purpose: change.plan ? 'minute-plan-step-down' : 'minute-plan-removal', subscriberId: change.subscriberId, to: change.to, ...change.email });
    return key;
  });
}
