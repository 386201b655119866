/**
 * Rating a closed cycle: usage → allowance, overage and invoice lines (DESIGN, "Billing rules").
 * Pure: the same input always gives the same invoice.
 */
import { lineAmountCents, MICROS_PER_CENT } from './money';
import type { PolicyRules } from './policy';

export const SECONDS_PER_MINUTE = 60;

/** How many calls lasted a given number of billable seconds; what the usage query returns. */
export interface DurationCount {
  seconds: number;
  calls: number;
}

export interface CycleUsage {
  calls: number;
  /** Billable seconds after per-call rounding, summed over the period. */
  billableSeconds: number;
}

/** Rounds each call up to the policy's increment, then sums (DESIGN, "rounding"). */
export function roundUsage(durations: DurationCount[], incrementSeconds: number): CycleUsage {
  if (!Number.isSafeInteger(incrementSeconds) || incrementSeconds < 1) {
    throw new RangeError(`rounding increment must be a whole number of seconds ≥ 1, got ${incrementSeconds}`);
  }
  let calls = 0;
  let billableSeconds = 0;
  for (const { seconds, calls: count } of durations) {
    calls += count;
    billableSeconds += count * roundUpToIncrement(seconds, incrementSeconds);
  }
  return { calls, billableSeconds };
}

export function roundUpToIncrement(seconds: number, incrementSeconds: number): number {
  return Math.ceil(seconds / incrementSeconds) * incrementSeconds;
}

/** Minutes past the allowance, each started minute counted (DESIGN, "rounding"). */
export function overageMinutes(usedSeconds: number, allowanceSeconds: number): number {
  return Math.ceil(Math.max(0, usedSeconds - allowanceSeconds) / SECONDS_PER_MINUTE);
}

export type InvoiceLineKind = 'monthly-fee' | 'minute-plan' | 'overage' | 'adjustment';

export interface InvoiceLine {
  kind: InvoiceLineKind;
  description: string;
  quantity: number;
  unitPriceMicros: number;
  amountCents: number;
}

export interface CycleTerms {
  period: string;
  rules: PolicyRules;
  monthlyFeeCents: number;
  /** An approved raised limit replacing the included minutes, if any. */
  limitMinutes?: number;
  /** The minute plan the subscriber carries this cycle, if any. */
  plan?: { minutes: number; feeCents: number };
}

export interface CycleRating {
  period: string;
  usedSeconds: number;
  calls: number;
  allowanceSeconds: number;
  overageMinutes: number;
  lines: InvoiceLine[];
  totalCents: number;
}

/** The allowance: the included minutes or the approved limit, plus the plan's minutes. */
export function allowanceSeconds(terms: Pick<CycleTerms, 'rules' | 'limitMinutes' | 'plan'>): number {
  const base = terms.limitMinutes ?? terms.rules.includedMinutes;
  return (base + (terms.plan?.minutes ?? 0)) * SECONDS_PER_MINUTE;
}

export function rateCycle(usage: CycleUsage, terms: CycleTerms): CycleRating {
  const allowance = allowanceSeconds(terms);
  const overMinutes = overageMinutes(usage.billableSeconds, allowance);
  const lines: InvoiceLine[] = [
    monetaryLine('monthly-fee', `Monthly fee, ${terms.period}`, terms.monthlyFeeCents),
  ];
  if (terms.plan) {
    lines.push(monetaryLine('minute-plan', `Minute plan, ${terms.plan.minutes} minutes`, terms.plan.feeCents));
  }
  if (overMinutes > 0) {
    lines.push({
      kind: 'overage',
      description: `Overage: ${overMinutes} min past ${allowance / SECONDS_PER_MINUTE} min`,
      quantity: overMinutes,
      unitPriceMicros: terms.rules.overageRateMicros,
      amountCents: lineAmountCents(overMinutes, terms.rules.overageRateMicros),
    });
  }
  return {
    period: terms.period,
    usedSeconds: usage.billableSeconds,
    calls: usage.calls,
    allowanceSeconds: allowance,
    overageMinutes: overMinutes,
    lines,
    totalCents: lines.reduce((sum, line) => sum + line.amountCents, 0),
  };
}

function monetaryLine(kind: InvoiceLineKind, description: string, cents: number): InvoiceLine {
  return { kind, description, quantity: 1, unitPriceMicros: cents * MICROS_PER_CENT, amountCents: cents };
}

/** The invoice number: readable, one per subscriber and period. */
export function invoiceIdFor(subscriberId: string, period: string): string {
  return `INV-${period}-${subscriberId}`;
}

/** The overage a period's usage costs under its terms: minutes past the allowance and their charge. */
export function overageCharge(usedSeconds: number, allowance: number, rateMicros: number): { minutes: number; cents: number } {
  const minutes = overageMinutes(usedSeconds, allowance);
  return { minutes, cents: lineAmountCents(minutes, rateMicros) };
}

/**
 * Late usage (DESIGN, "late usage"): calls that arrived after their month was invoiced are billed
 * on the next invoice as exactly the difference they make to that month's overage charge.
 */
export function lateAdjustmentLine(period: string, now: { minutes: number; cents: number }, billed: { minutes: number; cents: number }, rateMicros: number): InvoiceLine | undefined {
  const minutes = now.minutes - billed.minutes;
  const cents = now.cents - billed.cents;
  if (minutes === 0 && cents === 0) return undefined;
  return {
    kind: 'adjustment',
    description: `Late calls for ${period}: ${minutes >= 0 ? '+' : ''}${minutes} min overage`,
    quantity: minutes,
    unitPriceMicros: rateMicros,
    amountCents: cents,
  };
}

/** Adds lines (late adjustments) to a rating, keeping its total right. */
export function withExtraLines(rating: CycleRating, lines: InvoiceLine[]): CycleRating {
  if (lines.length === 0) return rating;
  const all = [...rating.lines, ...lines];
  return { ...rating, lines: all, totalCents: all.reduce((sum, line) => sum + line.amountCents, 0) };
}
