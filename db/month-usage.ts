/**
 * A subscriber's month as support reads it (`billing usage show`, the console's subscriber page):
 * the terms in force (billing/terms.ts, from db/terms.ts's facts), the counted usage rounded by the
 * core, what is left and the overage so far, and the usage day by day in their zone.
 */
import type { Pool } from 'pg';
import { allowanceSeconds, overageMinutes, roundUsage, type CycleTerms } from '../billing/rating';
import { termsForPeriod, type PeriodFacts } from '../billing/terms';
import { periodFacts, type TermsSubscriber } from './terms';
import { countedDurations, usageByDay, type UsageDay } from './usage';

export interface MonthUsage {
  subscriberId: string;
  period: string;
  timezone: string;
  policyVersion: number;
  calls: number;
  usedSeconds: number;
  allowanceSeconds: number;
  remainingSeconds: number;
  overageMinutes: number;
  days: UsageDay[];
}

export async function monthUsage(pool: Pool, subscriber: TermsSubscriber, period: string): Promise<{ usage: MonthUsage; facts: PeriodFacts; terms: CycleTerms }> {
  const facts = await periodFacts(pool, subscriber, period);
  const terms = termsForPeriod(facts);
  const [durations, days] = await Promise.all([countedDurations(pool, subscriber.id, period), usageByDay(pool, subscriber.id, period, subscriber.timezone)]);
  const used = roundUsage(durations, facts.policy.roundingIncrementSeconds);
  const allowance = allowanceSeconds(terms);
  const usage: MonthUsage = {
    subscriberId: subscriber.id,
    period,
    timezone: subscriber.timezone,
    policyVersion: facts.policy.version,
    calls: used.calls,
    usedSeconds: used.billableSeconds,
    allowanceSeconds: allowance,
    remainingSeconds: Math.max(0, allowance - used.billableSeconds),
    overageMinutes: overageMinutes(used.billableSeconds, allowance),
    days,
  };
  return { usage, facts, terms };
}
