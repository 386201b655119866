/**
 * The facts of a subscriber's terms for a month, read in one place (DESIGN, "Billing rules"): the
 * policy version in effect when the month began, the minute plan they carry, their approved
 * limits. billing/terms.ts termsForPeriod makes the terms of them; every allowance is computed
 * from those terms (the close, `usage show`, the usage alerts, the abuse detectors, limit requests).
 */
import type { Pool } from 'pg';
import type { PolicyVersion } from '../billing/policy';
import type { PeriodFacts } from '../billing/terms';
import { limitGrantsFor, limitGrantsOf } from './limit-requests';
import { planInEffect, planKey, plansInEffect } from './plans';
import { policyInEffectOn } from './policies';
import type { Subscriber } from './subscribers';

/** What the terms need of the subscriber, read by the caller with whatever else it needs of them. */
export type TermsSubscriber = Pick<Subscriber, 'id' | 'timezone' | 'monthlyFeeCents' | 'serviceStart'>;

export interface PeriodFactsOptions {
  /** Service ends in this period (a termination), epoch ms: its last month is prorated. */
  serviceEndMs?: number;
  /** The policy in effect on a day, for a caller that caches it across subscribers (default: read it). */
  policyOn?: (day: string) => Promise<PolicyVersion>;
}

/**
 * The facts of `subscriber`'s terms for `period`. Throws NoPolicyInEffectError (db/policies.ts)
 * when no policy version was in effect when the period began.
 */
export async function periodFacts(pool: Pool, subscriber: TermsSubscriber, period: string, options: PeriodFactsOptions = {}): Promise<PeriodFacts> {
  const policyOn = options.policyOn ?? ((day: string) => policyInEffectOn(pool, day));
  const [policy, plan, grants] = await Promise.all([policyOn(`${period}-01`), planInEffect(pool, subscriber.id, period), limitGrantsFor(pool, subscriber.id)]);
  return factsOf(subscriber, period, { policy, plan, grants }, options.serviceEndMs);
}

function factsOf(subscriber: TermsSubscriber, period: string, read: Pick<PeriodFacts, 'policy' | 'plan' | 'grants'>, serviceEndMs: number | undefined): PeriodFacts {
  return {
    period,
    timezone: subscriber.timezone,
    monthlyFeeCents: subscriber.monthlyFeeCents,
    serviceStart: subscriber.serviceStart,
    ...read,
    ...(serviceEndMs === undefined ? {} : { serviceEndMs }),
  };
}

/** A subscriber's month that was invoiced: the subscriber as the terms need them, and when their service ended. */
export interface InvoicedMonth {
  subscriber: TermsSubscriber;
  period: string;
  /** A termination (the start of its hold, as the cycle reads it), epoch ms: the month it falls in is prorated. */
  serviceEndMs?: number;
}

/**
 * The months of `periods` each subscriber was invoiced for (a regular invoice, with its monthly
 * fee; not a final adjustment after a termination), in one query: the policy preview's population.
 */
export async function invoicedMonths(pool: Pool, periods: readonly string[]): Promise<InvoicedMonth[]> {
  const { rows } = await pool.query(
    `SELECT s.id, s.timezone, s.monthly_fee_cents AS "monthlyFeeCents", s.service_start AS "serviceStart", i.period,
            (SELECT (extract(epoch FROM min(h.starts_at)) * 1000)::bigint FROM account_holds h
              WHERE h.subscriber_id = s.id AND h.kind = 'terminated') AS "serviceEndMs"
       FROM invoices i JOIN subscribers s ON s.id = i.subscriber_id
      WHERE i.period = ANY($1::text[])
        AND EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id AND l.kind = 'monthly-fee')
      ORDER BY s.id, i.period`,
    [periods],
  );
  return rows.map((r) => ({
    subscriber: { id: r.id, timezone: r.timezone, monthlyFeeCents: Number(r.monthlyFeeCents), serviceStart: r.serviceStart },
    period: r.period,
    ...(r.serviceEndMs === null ? {} : { serviceEndMs: Number(r.serviceEndMs) }),
  }));
}

/**
 * periodFacts for many subscribers' months at once (the policy preview): the same facts, read in
 * one query for the plans and one for the approved limits, the policy once per month.
 */
export async function periodFactsOfMany(pool: Pool, months: readonly InvoicedMonth[], options: Pick<PeriodFactsOptions, 'policyOn'> = {}): Promise<PeriodFacts[]> {
  const policyOn = options.policyOn ?? ((day: string) => policyInEffectOn(pool, day));
  const ids = [...new Set(months.map((m) => m.subscriber.id))];
  const periods = [...new Set(months.map((m) => m.period))];
  const [plans, grants, policies] = await Promise.all([
    plansInEffect(pool, ids, periods),
    limitGrantsOf(pool, ids),
    Promise.all(periods.map(async (period) => [period, await policyOn(`${period}-01`)] as const)).then((entries) => new Map(entries)),
  ]);
  return months.map((m) =>
    factsOf(
      m.subscriber,
      m.period,
      {
        policy: policies.get(m.period)!,
        plan: plans.get(planKey(m.subscriber.id, m.period)) ?? null,
        grants: grants.get(m.subscriber.id) ?? [],
      },
      m.serviceEndMs,
    ),
  );
}
