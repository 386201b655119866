/**
 * Raised monthly limits (DESIGN, "limit increase"; the policy's "users may request an increase in
 * their monthly usage limit ... reviewed case by case by our customer support team"). The rules of
 * a request and of support's decision, and which approved limit applies to a month. Used by the
 * CLI before it sends anything, by the limit-request workflow on every signal, and by the rating.
 */
import { z } from 'zod';
import { comparePeriods } from './periods';
import { IdSchema, PeriodSchema, payloadProblem, shownValue } from './validation';

export { reviewerProblem } from './reviewers';

/** An approved limit: it replaces the policy's included minutes from one month to another. */
export interface LimitGrant {
  requestId: string;
  minutes: number;
  fromPeriod: string;
  /** The last month it applies; null: no end. */
  untilPeriod: string | null;
}

/**
 * The limit in effect in a month: the grant covering it that started last (a later approval
 * supersedes an earlier one for the months both cover); undefined when none does.
 */
export function limitForPeriod(grants: readonly LimitGrant[], period: string): number | undefined {
  return grantInForce(grants, period)?.minutes;
}

/** The grant whose limit is in effect in a month (limitForPeriod), to name it; undefined when none. */
export function grantInForce<G extends LimitGrant>(grants: readonly G[], period: string): G | undefined {
  let best: G | undefined;
  for (const grant of grants) {
    const covers = comparePeriods(grant.fromPeriod, period) <= 0 && (grant.untilPeriod === null || comparePeriods(period, grant.untilPeriod) <= 0);
    if (covers && (!best || comparePeriods(grant.fromPeriod, best.fromPeriod) >= 0)) best = grant;
  }
  return best;
}

/**
 * The approved limits a revision overtakes: in force from its first month on and no higher than
 * the minutes it includes. The allowance is the larger of the two (DESIGN, "allowance"), so such a
 * grant stops raising its subscriber's allowance; publishing a revision lists them for support.
 */
export function grantsOvertaken<G extends LimitGrant>(grants: readonly G[], includedMinutes: number, effectiveFrom: string): G[] {
  const month = effectiveFrom.slice(0, 7);
  return grants.filter((g) => g.minutes <= includedMinutes && (g.untilPeriod === null || comparePeriods(g.untilPeriod, month) >= 0));
}

/** What a request or an approval is checked against. */
export interface LimitRules {
  /** The subscriber's monthly limit now (a raised one, or the policy's included minutes): a request must exceed it. */
  currentLimitMinutes: number;
  /** The highest limit support may grant (BILLING_LIMIT_CEILING_MINUTES). */
  ceilingMinutes: number;
}

const minutesProblem = (minutes: unknown, rules: LimitRules, what: string): string | undefined => {
  if (typeof minutes === 'number' && !Number.isFinite(minutes) && !Number.isNaN(minutes))
    return `${what} ${shownValue(minutes)} is above the ceiling of ${rules.ceilingMinutes} minutes`;
  if (typeof minutes !== 'number' || !Number.isInteger(minutes)) return `${what} ${shownValue(minutes)} must be a whole number of minutes`;
  // Zero and negative limits are refused by the rule that applies: above the current limit.
  if (minutes <= rules.currentLimitMinutes) return `${what} ${minutes} must be above the current limit of ${rules.currentLimitMinutes} minutes`;
  if (minutes > rules.ceilingMinutes) return `${what} ${minutes} is above the ceiling of ${rules.ceilingMinutes} minutes`;
  return undefined;
};

/** A new request: an active subscriber, a limit above the current one and within the ceiling, a reason. */
export function limitRequestProblem(input: { subscriberStatus: string; minutes: unknown; reason: unknown }, rules: LimitRules): string | undefined {
  if (input.subscriberStatus !== 'active') return `the subscriber is ${input.subscriberStatus}: only an active subscriber may ask for a higher limit`;
  const minutes = minutesProblem(input.minutes, rules, 'minutes');
  if (minutes) return minutes;
  if (typeof input.reason !== 'string' || input.reason.trim() === '') return 'reason must not be empty: say why the subscriber needs the higher limit';
  return undefined;
}

/** `approve`: `{ "reviewer": "sam", "minutes"?: 4000, "until"?: "2027-03", "note"?: "..." }`. */
export const ApproveDecisionSchema = z
  .object({
    reviewer: IdSchema,
    minutes: z.number().optional(),
    until: PeriodSchema.optional(),
    note: z.string().max(2000).optional(),
  })
  .strict();
export type ApproveDecision = z.infer<typeof ApproveDecisionSchema>;

/** `reject`: `{ "reviewer": "sam", "reason": "..." }`. */
export const RejectDecisionSchema = z
  .object({
    reviewer: IdSchema,
    reason: z.string().trim().min(1, 'must not be empty: a rejection needs a reason').max(2000),
  })
  .strict();
export type RejectDecision = z.infer<typeof RejectDecisionSchema>;

export type LimitDecision =
  { kind: 'approve'; reviewer: string; minutes: number; untilPeriod: string | null; note: string | null } | { kind: 'reject'; reviewer: string; reason: string };

/**
 * Checks a decision's payload against the request (the reviewer's standing is checked against
 * support staff separately): the decision, or what is wrong with it, naming the value.
 * `currentPeriod` is the subscriber's month in progress: an approval cannot end before it.
 */
export function checkDecision(
  kind: 'approve' | 'reject',
  payload: unknown,
  request: LimitRules & { requestedMinutes: number; currentPeriod: string },
): { decision: LimitDecision } | { problem: string } {
  if (kind === 'reject') {
    const problem = payloadProblem(RejectDecisionSchema, payload, 'reject');
    if (problem) return { problem };
    const p = payload as RejectDecision;
    return { decision: { kind, reviewer: p.reviewer, reason: p.reason.trim() } };
  }
  const problem = payloadProblem(ApproveDecisionSchema, payload, 'approve');
  if (problem) return { problem };
  const p = payload as ApproveDecision;
  const minutes = p.minutes ?? request.requestedMinutes;
  const bad = minutesProblem(minutes, request, 'approve minutes');
  if (bad) return { problem: bad };
  if (p.until !== undefined && comparePeriods(p.until, request.currentPeriod) < 0) {
    return { problem: `approve until "${p.until}" is before the month in progress (${request.currentPeriod})` };
  }
  return { decision: { kind, reviewer: p.reviewer, minutes, untilPeriod: p.until ?? null, note: p.note?.trim() || null } };
}

export type LimitRequestState = 'pending' | 'approved' | 'rejected' | 'expired';
