/**
 * The facts of a subscriber's terms for a month, read in one place (DESIGN, "Billing rules"): the
 * policy version in effect when the month began, the minute plan they carry, their approved
 * limits. billing/terms.ts termsForPeriod makes the terms of them; every allowance is computed
 * from those terms (the close, `usage show`, the usage alerts, the abuse detectors, limit requests).
 */
import type { Pool } from 'pg';
import type { PolicyVersion } from '../billing/policy';
import type { PeriodFacts } from '../billing/terms';
import { limitGrantsFor } from './limit-requests';
import { planInEffect } from './plans';
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
  return {
    period,
    timezone: subscriber.timezone,
    monthlyFeeCents: subscriber.monthlyFeeCents,
    serviceStart: subscriber.serviceStart,
    policy,
    plan,
    grants,
    ...(options.serviceEndMs === undefined ? {} : { serviceEndMs: options.serviceEndMs }),
  };
}
