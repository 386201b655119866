/**
 * A subscriber's terms for a period and the invoice they make of its usage (DESIGN, "Billing
 * rules"): the one place that puts the policy version in force, the approved limit, the minute
 * plan, the fee and a partial month together. The activities read the facts; this decides.
 */
import { limitForPeriod, type LimitGrant } from './limits';
import { localDay, partialMonth } from './periods';
import type { MinutePlan, PolicyVersion } from './policy';
import { lateAdjustmentLine, overageCharge, rateCycle, roundUsage, withExtraLines, type CycleRating, type CycleTerms, type DurationCount, type InvoiceLine } from './rating';

/** What one activity reads to know a subscriber's terms for a period. */
export interface PeriodFacts {
  period: string;
  timezone: string;
  monthlyFeeCents: number;
  /** YYYY-MM-DD in the subscriber's zone. */
  serviceStart: string;
  /** The policy version in effect on the day the period began. */
  policy: PolicyVersion;
  plan: MinutePlan | null;
  grants: readonly LimitGrant[];
  /** When service ends in this period (a termination), epoch ms. */
  serviceEndMs?: number;
}

export function termsForPeriod(facts: PeriodFacts): CycleTerms {
  const lastDay = facts.serviceEndMs === undefined ? undefined : localDay(facts.serviceEndMs, facts.timezone);
  const proration = partialMonth(facts.period, facts.serviceStart, lastDay);
  const limitMinutes = limitForPeriod(facts.grants, facts.period);
  return {
    period: facts.period,
    rules: facts.policy,
    monthlyFeeCents: facts.monthlyFeeCents,
    ...(limitMinutes === undefined ? {} : { limitMinutes }),
    ...(facts.plan ? { plan: facts.plan } : {}),
    ...(proration ? { proration } : {}),
  };
}

/** An earlier invoiced month whose unrated calls the invoice carries, re-rated under its invoice's terms. */
export interface LateMonthUsage {
  period: string;
  roundingIncrementSeconds: number;
  allowanceSeconds: number;
  overageRateMicros: number;
  billed: { minutes: number; cents: number };
  durations: DurationCount[];
}

export interface PricedInvoice {
  rating: CycleRating;
  /** The overage charge of the period itself (its overage line), before adjustments. */
  overageCents: number;
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
}

/**
 * The invoice of a period: its own usage rated under its terms, plus one adjustment line per
 * earlier month for exactly the difference its late calls make to what was billed for it.
 * `finalAdjustmentOnly`: an invoice after a termination, which carries the adjustments alone.
 */
export function priceInvoice(terms: CycleTerms, own: DurationCount[], lateMonths: LateMonthUsage[], options: { finalAdjustmentOnly?: boolean } = {}): PricedInvoice {
  const usage = roundUsage(own, terms.rules.roundingIncrementSeconds);
  const rated = rateCycle(usage, terms);
  const base: CycleRating = options.finalAdjustmentOnly ? { ...rated, lines: [], totalCents: 0, overageMinutes: 0 } : rated;
  const adjustments: { period: string; line: InvoiceLine }[] = [];
  for (const month of lateMonths) {
    const now = roundUsage(month.durations, month.roundingIncrementSeconds);
    const line = lateAdjustmentLine(month.period, overageCharge(now.billableSeconds, month.allowanceSeconds, month.overageRateMicros), month.billed, month.overageRateMicros);
    if (line) adjustments.push({ period: month.period, line });
  }
  return {
    rating: withExtraLines(
      base,
      adjustments.map((a) => a.line),
    ),
    overageCents: base.lines.find((line) => line.kind === 'overage')?.amountCents ?? 0,
    adjustments: adjustments.map(({ period, line }) => ({ period, overageMinutes: line.quantity, amountCents: line.amountCents })),
  };
}
