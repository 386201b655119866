/**
 * Support's decision on an abuse case (issue 7; the policy's "take appropriate action ... including
 * terminating or suspending accounts"; DESIGN: "nothing is suspended without a named reviewer").
 * The signal `decide` carries `{ "reviewer", "action": "suspend" | "terminate" | "dismiss",
 * "reason", "until"? }`; this checks it against the case's state. The reviewer's standing is
 * checked against support staff separately (../reviewers.ts).
 */
import { z } from 'zod';
import { DaySchema, IdSchema, payloadProblem } from '../validation';
import { daysBetween } from './scan';

export const ABUSE_ACTIONS = ['suspend', 'terminate', 'dismiss'] as const;
export type AbuseAction = (typeof ABUSE_ACTIONS)[number];

/**
 * Where a case stands: `open` awaits a decision; `suspended` holds the account (until a day, or
 * until support lifts it); `resumed` is a timed suspension that ended; `terminated` and
 * `dismissed` are closed.
 */
export const ABUSE_CASE_STATES = ['open', 'suspended', 'resumed', 'terminated', 'dismissed'] as const;
export type AbuseCaseState = (typeof ABUSE_CASE_STATES)[number];

/** `decide`: `{ "reviewer": "sam", "action": "suspend", "reason": "...", "until"?: "2026-12-01" }`. */
export const AbuseDecisionSchema = z.object({
  reviewer: IdSchema,
  action: z.enum(ABUSE_ACTIONS, { error: 'must be "suspend", "terminate" or "dismiss"' }),
  reason: z.string({ error: 'must be a text: the subscriber reads it' }).trim().min(1, 'must not be empty: say why').max(2000),
  until: DaySchema.optional(),
}).strict();
export type AbuseDecisionPayload = z.infer<typeof AbuseDecisionSchema>;

export interface AbuseDecision {
  action: AbuseAction;
  reviewer: string;
  reason: string;
  /** A suspension ends at the start of this day in the subscriber's zone; null: until lifted. */
  untilDay: string | null;
}

/**
 * Checks a decision against the case. An open case takes any action; a suspended one may be
 * escalated (`terminate`) or lifted (`dismiss`: the suspension ends now and the detectors are
 * muted); a closed case takes none. `today` is the subscriber's local day: `until` must be later.
 */
export function checkAbuseDecision(payload: unknown, c: { state: AbuseCaseState; today: string }): { decision: AbuseDecision } | { problem: string } {
  const problem = payloadProblem(AbuseDecisionSchema, payload, 'decide');
  if (problem) return { problem };
  const p = payload as AbuseDecisionPayload;
  if (c.state === 'suspended' && p.action === 'suspend') return { problem: 'decide suspend: the account is already suspended by this case; terminate or dismiss (lift) it instead' };
  if (c.state !== 'open' && c.state !== 'suspended') return { problem: `decide ${p.action}: the case is already ${c.state}: the first decision stands` };
  if (p.until !== undefined) {
    if (p.action !== 'suspend') return { problem: `decide until "${p.until}" applies only to "suspend", not "${p.action}"` };
    if (daysBetween(c.today, p.until) < 1) return { problem: `decide until "${p.until}" must be after today (${c.today}) in the subscriber's zone` };
  }
  return { decision: { action: p.action, reviewer: p.reviewer, reason: p.reason.trim(), untilDay: p.until ?? null } };
}
