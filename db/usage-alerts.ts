/** Queues the usage alerts an import or rematch makes due, once per threshold per cycle. */
import type { Pool } from 'pg';
import { alertMonth, thresholdsReached, usageAlertKey } from '../billing/alerts';
import { usageAlertEmail } from '../billing/emails';
import type { PolicyVersion } from '../billing/policy';
import { allowanceSeconds, roundUsage, type DurationCount } from '../billing/rating';
import { termsForPeriod } from '../billing/terms';
import { enqueueEmail } from './outbox';
import { policyInEffectOn } from './policies';
import { periodFacts } from './terms';

type Touched = { subscriberId: string; period: string };

/** The active subscribers touched, and the months of theirs that can be alerted now (their open cycle, or last month until it is invoiced). */
async function alertable(pool: Pool, touched: Touched[], nowMs: number) {
  const { rows: subscribers } = await pool.query(`SELECT id, name, email, timezone, service_start, monthly_fee_cents FROM subscribers WHERE id = ANY($1) AND status = 'active'`, [
    [...new Set(touched.map((t) => t.subscriberId))],
  ]);
  const byId = new Map(subscribers.map((s) => [s.id as string, s]));
  const monthOf = (t: Touched) => alertMonth(t.period, nowMs, byId.get(t.subscriberId).timezone, byId.get(t.subscriberId).service_start);
  return { byId, monthOf, open: touched.filter((t) => byId.has(t.subscriberId) && monthOf(t) !== undefined) };
}

/** Whether any of these months can be alerted now: when none can (an import of old records), no alert can be due. */
export async function anyAlertableMonth(pool: Pool, touched: Touched[], nowMs: number = Date.now()): Promise<boolean> {
  return touched.length > 0 && (await alertable(pool, touched, nowMs)).open.length > 0;
}

/**
 * Returns the keys of the alert emails that are due and not yet sent. `onProgress` is called for
 * each subscriber month measured (an activity heartbeats there: a large import has many).
 */
export async function queueUsageAlerts(pool: Pool, touched: Touched[], nowMs: number = Date.now(), onProgress?: () => void): Promise<string[]> {
  if (touched.length === 0) return [];
  const { byId, monthOf, open } = await alertable(pool, touched, nowMs);
  if (open.length === 0) return [];
  const { rows } = await pool.query(
    `SELECT c.subscriber_id, c.period, c.billable_seconds AS seconds, c.call_seconds AS "callSeconds", c.final_segment AS "finalSegment", count(*)::int AS calls
       FROM calls c JOIN unnest($1::text[], $2::text[]) AS t(subscriber_id, period)
         ON c.subscriber_id = t.subscriber_id AND c.period = t.period
       JOIN subscribers s ON s.id = c.subscriber_id
      WHERE c.counted
        -- usage dated before the service start is kept, never alerted (DESIGN, "partial months")
        AND c.started_at >= s.service_start::timestamp AT TIME ZONE s.timezone
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.subscriber_id = c.subscriber_id AND i.period = c.period)
      GROUP BY 1, 2, 3, 4, 5`,
    [open.map((t) => t.subscriberId), open.map((t) => t.period)],
  );
  const durations = new Map<string, DurationCount[]>();
  for (const r of rows) {
    const key = `${r.subscriber_id}\u0000${r.period}`;
    if (!durations.has(key)) durations.set(key, []);
    durations.get(key)!.push({ seconds: r.seconds, calls: r.calls, callSeconds: r.callSeconds, finalSegment: r.finalSegment });
  }
  const policies = new Map<string, Promise<PolicyVersion>>();
  const policyOn = (day: string): Promise<PolicyVersion> => {
    if (!policies.has(day)) policies.set(day, policyInEffectOn(pool, day));
    return policies.get(day)!;
  };
  const due: string[] = [];
  for (const [key, list] of durations) {
    onProgress?.();
    const [subscriberId, period] = key.split('\u0000') as [string, string];
    const subscriber = byId.get(subscriberId);
    // The allowance a subscriber really has: their terms for the month (plan, approved limit, a partial month).
    const facts = await periodFacts(
      pool,
      { id: subscriberId, timezone: subscriber.timezone, monthlyFeeCents: subscriber.monthly_fee_cents, serviceStart: subscriber.service_start },
      period,
      { policyOn },
    );
    const { policy } = facts;
    const used = roundUsage(list, policy.roundingIncrementSeconds).billableSeconds;
    const allowance = allowanceSeconds(termsForPeriod(facts));
    // Only the highest threshold reached is news: a month that jumps past 100 % gets no 80 % mail.
    const reached = thresholdsReached(used, allowance, policy.alertThresholdsPercent);
    for (const pct of reached.length > 0 ? [Math.max(...reached)] : []) {
      const emailKey = usageAlertKey(subscriberId, period, pct);
      await enqueueEmail(pool, {
        key: emailKey,
        purpose: 'usage-alert',
        subscriberId,
        to: subscriber.email,
        ...usageAlertEmail({
          subscriberId,
          subscriberName: subscriber.name,
          period,
          thresholdPercent: pct,
          usedSeconds: used,
          allowanceSeconds: allowance,
          overageRateMicros: policy.overageRateMicros,
          currency: policy.currency,
          monthEnded: monthOf({ subscriberId, period }) === 'ended',
        }),
      });
      due.push(emailKey);
    }
  }
  if (due.length === 0) return [];
  const { rows: pending } = await pool.query(`SELECT idempotency_key FROM email_outbox WHERE idempotency_key = ANY($1) AND status <> 'sent'`, [due]);
  return pending.map((p) => p.idempotency_key as string);
}
