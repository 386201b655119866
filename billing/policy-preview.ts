/**
 * The policy impact preview (issue 16, part 4): closed months' real usage re-rated under proposed
 * terms and under those actually in force, per subscriber and in total, with who would get a
 * minute plan. Pure: the facts come from db/ (db/terms.ts, db/usage.ts); the terms, the rating and
 * the plan decisions are the close's own (termsForPeriod, priceInvoice, planDecision).
 */
import { formatCents } from './money';
import { extendStreak, planDecision, streakComplete, EMPTY_STREAK } from './minute-plans';
import { comparePeriods, isValidPeriod, nextPeriod, periodBounds, periodsBetween } from './periods';
import type { MinutePlan, PolicyVersion } from './policy';
import type { PolicyChanges } from './policy-revision';
import { allowanceMinutes, type DurationCount } from './rating';
import { priceInvoice, termsForPeriod, type PeriodFacts } from './terms';

/** The most months one preview re-rates. */
export const MAX_PREVIEW_MONTHS = 24;

/** One subscriber's invoiced month: the facts of its terms and its counted calls. */
export interface PreviewMonthInput {
  subscriberId: string;
  facts: PeriodFacts;
  durations: DurationCount[];
}

/** A month rated under one set of terms. */
export interface RatedMonth {
  allowanceMinutes: number;
  usedSeconds: number;
  overageMinutes: number;
  overageCents: number;
  totalCents: number;
  /** The policy version the terms came from (the proposed terms carry the active version's number). */
  policyVersion: number;
}

export interface PlanOutcome {
  /** The month the plan would be charged from: the one after the streak. */
  fromPeriod: string;
  plan: MinutePlan;
  averageOverageMinutes: number;
  /** The months of overage that called for it. */
  periods: string[];
}

export interface Totals {
  overageMinutes: number;
  overageCents: number;
  totalCents: number;
}

export interface SubscriberComparison {
  subscriberId: string;
  months: { period: string; current: RatedMonth; proposed: RatedMonth }[];
  current: Totals & { plans: PlanOutcome[] };
  proposed: Totals & { plans: PlanOutcome[] };
  /** Whether a month's overage or invoice total differs, or a plan decision. */
  changed: boolean;
}

export interface PolicyPreview {
  periods: string[];
  currency: string;
  subscribers: SubscriberComparison[];
  totals: {
    subscribers: number;
    changed: number;
    current: Totals & { plans: number };
    proposed: Totals & { plans: number };
  };
}

/** The proposed terms: the active version with the revision's parameters applied, as publishing makes them. */
export function proposedPolicy(active: PolicyVersion, changes: PolicyChanges): PolicyVersion {
  return { ...active, ...changes };
}

function rateMonth(facts: PeriodFacts, durations: DurationCount[]): RatedMonth {
  const terms = termsForPeriod(facts);
  const { rating, overageCents } = priceInvoice(terms, durations, []);
  return {
    allowanceMinutes: allowanceMinutes(terms),
    usedSeconds: rating.usedSeconds,
    overageMinutes: rating.overageMinutes,
    overageCents,
    totalCents: rating.totalCents,
    policyVersion: facts.policy.version,
  };
}

const sum = (months: RatedMonth[]): Totals => ({
  overageMinutes: months.reduce((n, m) => n + m.overageMinutes, 0),
  overageCents: months.reduce((n, m) => n + m.overageCents, 0),
  totalCents: months.reduce((n, m) => n + m.totalCents, 0),
});

/**
 * The plans the months' overage calls for, as the cycle decides them after each close (its streak
 * counted from the first month previewed): a month with a termination decides nothing.
 */
function planOutcomes(months: { facts: PeriodFacts; rated: RatedMonth }[], policyOf: (facts: PeriodFacts) => PolicyVersion): PlanOutcome[] {
  const outcomes: PlanOutcome[] = [];
  let streak = EMPTY_STREAK;
  for (const { facts, rated } of months) {
    const policy = policyOf(facts);
    streak = extendStreak(streak, facts.period, rated.overageMinutes);
    const decision = planDecision(streak, policy, facts.plan);
    if (decision && facts.serviceEndMs === undefined) {
      outcomes.push({ fromPeriod: nextPeriod(facts.period), plan: decision.plan, averageOverageMinutes: decision.averageOverageMinutes, periods: decision.streak.periods });
    }
    if (streakComplete(streak, policy)) streak = EMPTY_STREAK;
  }
  return outcomes;
}

/**
 * Every subscriber-month re-rated twice: under the terms in force then (the facts as read) and
 * under the same facts with `proposed` as the policy. Months of a subscriber in any order.
 */
export function comparePolicies(input: readonly PreviewMonthInput[], proposed: PolicyVersion, periods: string[]): PolicyPreview {
  const bySubscriber = new Map<string, PreviewMonthInput[]>();
  for (const month of input) bySubscriber.set(month.subscriberId, [...(bySubscriber.get(month.subscriberId) ?? []), month]);
  const subscribers: SubscriberComparison[] = [];
  for (const [subscriberId, unordered] of [...bySubscriber].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const months = [...unordered].sort((a, b) => comparePeriods(a.facts.period, b.facts.period));
    const current = months.map((m) => ({ facts: m.facts, rated: rateMonth(m.facts, m.durations) }));
    const withProposed = months.map((m) => ({ ...m.facts, policy: proposed }));
    const proposedRated = months.map((m, i) => ({ facts: withProposed[i]!, rated: rateMonth(withProposed[i]!, m.durations) }));
    const currentPlans = planOutcomes(current, (facts) => facts.policy);
    const proposedPlans = planOutcomes(proposedRated, () => proposed);
    const c = sum(current.map((m) => m.rated));
    const p = sum(proposedRated.map((m) => m.rated));
    const changed =
      current.some((m, i) => m.rated.overageMinutes !== proposedRated[i]!.rated.overageMinutes || m.rated.totalCents !== proposedRated[i]!.rated.totalCents) ||
      JSON.stringify(currentPlans) !== JSON.stringify(proposedPlans);
    subscribers.push({
      subscriberId,
      months: months.map((m, i) => ({ period: m.facts.period, current: current[i]!.rated, proposed: proposedRated[i]!.rated })),
      current: { ...c, plans: currentPlans },
      proposed: { ...p, plans: proposedPlans },
      changed,
    });
  }
  const total = (side: 'current' | 'proposed'): Totals & { plans: number } => ({
    overageMinutes: subscribers.reduce((n, s) => n + s[side].overageMinutes, 0),
    overageCents: subscribers.reduce((n, s) => n + s[side].overageCents, 0),
    totalCents: subscribers.reduce((n, s) => n + s[side].totalCents, 0),
    plans: subscribers.reduce((n, s) => n + s[side].plans.length, 0),
  });
  return {
    periods,
    currency: proposed.currency,
    subscribers,
    totals: { subscribers: subscribers.length, changed: subscribers.filter((s) => s.changed).length, current: total('current'), proposed: total('proposed') },
  };
}

// The months asked for: `--months 2026-08..2026-10` (or one month, `2026-09`).

/** The months of `--months`, or what is wrong with its form, naming the value. */
export function parseMonthRange(text: string): { periods: string[] } | { problem: string } {
  const match = /^(\d{4}-\d{2})(?:\.\.(\d{4}-\d{2}))?$/.exec(text.trim());
  const [from, to] = match ? [match[1]!, match[2] ?? match[1]!] : [];
  if (!from || !to || !isValidPeriod(from) || !isValidPeriod(to)) {
    return { problem: `--months ${JSON.stringify(text)} must be a range of months FIRST..LAST, e.g. 2026-08..2026-10 (or one month, 2026-09)` };
  }
  if (comparePeriods(from, to) > 0) return { problem: `--months ${text} is reversed: write the earlier month first, ${to}..${from}` };
  const periods = periodsBetween(from, to);
  if (periods.length > MAX_PREVIEW_MONTHS) return { problem: `--months ${text} spans ${periods.length} months: preview at most ${MAX_PREVIEW_MONTHS} at a time` };
  return { periods };
}

/**
 * Why a month cannot be previewed before reading whether its close is complete: before the first
 * policy version (nothing was billed), or not over everywhere yet (it ends last at UTC-12).
 */
export function previewMonthProblem(period: string, at: { nowMs: number; firstPolicyDay: string }): string | undefined {
  const firstPeriod = at.firstPolicyDay.slice(0, 7);
  if (comparePeriods(period, firstPeriod) < 0) {
    return `--months: ${period} is before ${firstPeriod}, the first month a policy version is in effect (from ${at.firstPolicyDay}): nothing was billed then`;
  }
  const endsLastMs = periodBounds(period, 'Etc/GMT+12').endMs;
  if (endsLastMs > at.nowMs) {
    return `--months: ${period} is not over yet (it ends everywhere at ${new Date(endsLastMs).toISOString()}); only closed months can be previewed`;
  }
  return undefined;
}

/** A month over but whose close is not complete: billable subscribers with neither an invoice nor a failure. */
export function notClosedProblem(period: string, close: { subscribers: number; open: number }): string | undefined {
  if (close.open <= 0) return undefined;
  return `--months: ${period} is not closed yet: ${close.open} of ${close.subscribers} subscribers billable for it have no invoice; close it first (\`billing close --period ${period} --wait\`)`;
}

// The CSV export: one row per subscriber and month.

const CSV_COLUMNS = [
  'subscriber',
  'period',
  'current_policy_version',
  'current_allowance_minutes',
  'current_used_seconds',
  'current_overage_minutes',
  'current_overage',
  'current_total',
  'proposed_allowance_minutes',
  'proposed_used_seconds',
  'proposed_overage_minutes',
  'proposed_overage',
  'proposed_total',
  'difference',
  'currency',
  'current_plan_from_next_month',
  'proposed_plan_from_next_month',
] as const;

const csvField = (value: string | number): string => {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** "500 min for 15.00 USD": a plan as people read it. */
export const planText = (plan: MinutePlan, currency: string): string => `${plan.minutes} min for ${formatCents(plan.feeCents)} ${currency}`;

export function previewCsv(preview: PolicyPreview): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of preview.subscribers) {
    for (const { period, current: c, proposed: p } of s.months) {
      const planAfter = (plans: PlanOutcome[]): string => {
        const outcome = plans.find((o) => o.periods[o.periods.length - 1] === period);
        return outcome ? planText(outcome.plan, preview.currency) : '';
      };
      lines.push(
        [
          s.subscriberId,
          period,
          c.policyVersion,
          c.allowanceMinutes,
          c.usedSeconds,
          c.overageMinutes,
          formatCents(c.overageCents),
          formatCents(c.totalCents),
          p.allowanceMinutes,
          p.usedSeconds,
          p.overageMinutes,
          formatCents(p.overageCents),
          formatCents(p.totalCents),
          formatCents(p.totalCents - c.totalCents),
          preview.currency,
          planAfter(s.current.plans),
          planAfter(s.proposed.plans),
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
