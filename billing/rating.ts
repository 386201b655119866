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
  /**
   * When these rows are shares of calls split at a month boundary: the whole call's billable
   * seconds, and whether the share is the call's last one. Null or absent: whole calls.
   */
  callSeconds?: number | null;
  finalSegment?: boolean;
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
  for (const share of durations) {
    calls += share.calls;
    billableSeconds += share.calls * roundedShareSeconds(share, incrementSeconds);
  }
  return { calls, billableSeconds };
}

/**
 * The billable seconds of one call, or of one share of a call split at a month boundary (DESIGN,
 * "rounding of split calls"): a call is rounded once, and the seconds the rounding adds go to its
 * last share. A 60 s call split 30/30 with a 60 s increment bills 30 + 30, never 60 + 60.
 */
export function roundedShareSeconds(share: Pick<DurationCount, 'seconds' | 'callSeconds' | 'finalSegment'>, incrementSeconds: number): number {
  const { seconds, callSeconds } = share;
  if (callSeconds === undefined || callSeconds === null) return roundUpToIncrement(seconds, incrementSeconds);
  if (share.finalSegment === false) return seconds;
  return seconds + roundUpToIncrement(callSeconds, incrementSeconds) - callSeconds;
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
  /** An approved raised limit, if any: the allowance's base is the larger of it and the included minutes. */
  limitMinutes?: number;
  /** The minute plan the subscriber carries this cycle, if any. */
  plan?: { minutes: number; feeCents: number };
  /** A partial month (service started after the 1st, or terminated): the days of service. */
  proration?: Proration;
}

/** Days of service in a partial month, of the month's days, in the subscriber's zone. */
export interface Proration {
  days: number;
  ofDays: number;
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

/**
 * The allowance (DESIGN, "allowance"): the larger of the included minutes and an approved raised
 * limit (a revision that includes more than a grant never lowers anyone's allowance), plus the
 * plan's minutes; in a partial month, in proportion to the days of service, rounded up in the
 * subscriber's favour.
 */
export function allowanceSeconds(terms: Pick<CycleTerms, 'rules' | 'limitMinutes' | 'plan' | 'proration'>): number {
  return allowanceMinutes(terms) * SECONDS_PER_MINUTE;
}

export function allowanceMinutes(terms: Pick<CycleTerms, 'rules' | 'limitMinutes' | 'plan' | 'proration'>): number {
  const full = monthlyLimitMinutes(terms) + (terms.plan?.minutes ?? 0);
  const p = terms.proration;
  return p ? ceilDiv(full * p.days, p.ofDays) : full;
}

/**
 * The monthly limit in force, the allowance's base: the larger of the included minutes and an
 * approved raised limit, before any plan and proration. What a limit request must go beyond.
 */
export function monthlyLimitMinutes(terms: Pick<CycleTerms, 'rules' | 'limitMinutes'>): number {
  return Math.max(terms.rules.includedMinutes, terms.limitMinutes ?? 0);
}

/** A monthly charge for a partial month: in proportion to the days of service, half-up to the cent. */
export function proratedCents(cents: number, proration: Proration | undefined): number {
  if (!proration) return cents;
  return Number((2n * BigInt(cents) * BigInt(proration.days) + BigInt(proration.ofDays)) / (2n * BigInt(proration.ofDays)));
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

export function rateCycle(usage: CycleUsage, terms: CycleTerms): CycleRating {
  const allowance = allowanceSeconds(terms);
  const overMinutes = overageMinutes(usage.billableSeconds, allowance);
  const partial = terms.proration ? ` (${terms.proration.days} of ${terms.proration.ofDays} days)` : '';
  const lines: InvoiceLine[] = [monetaryLine('monthly-fee', `Monthly fee, ${terms.period}${partial}`, proratedCents(terms.monthlyFeeCents, terms.proration))];
  if (terms.plan) {
    lines.push(monetaryLine('minute-plan', `Minute plan, ${terms.plan.minutes} minutes${partial}`, proratedCents(terms.plan.feeCents, terms.proration)));
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
export function lateAdjustmentLine(
  period: string,
  now: { minutes: number; cents: number },
  billed: { minutes: number; cents: number },
  rateMicros: number,
): InvoiceLine | undefined {
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
