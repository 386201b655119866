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
export const AbuseDecisionSchema = z
  .object({
    reviewer: IdSchema,
    action: z.enum(ABUSE_ACTIONS, { error: 'must be "suspend", "terminate" or "dismiss"' }),
    reason: z.string({ error: 'must be a text: the subscriber reads it' }).trim().min(1, 'must not be empty: say why').max(2000),
    until: DaySchema.optional(),
  })
  .strict();
export type AbuseDecisionPayload = z.infer<typeof AbuseDecisionSchema>;

export interface AbuseDecision {
  action: AbuseAction;
  reviewer: string;
  reason: string;
  /** A suspension ends at the start of this day in the subscriber's zone; null: until lifted. */
  untilDay: string | null;
}

/** What moves a case on: support's actions, and a timed suspension reaching its end. */
export type AbuseCaseEvent = AbuseAction | 'suspension-ended';

/** A case's move from one state to the next, and what it does to the account. */
export interface AbuseCaseStep {
  /** A step never leads back to open. */
  state: Exclude<AbuseCaseState, 'open'>;
  /** The hold the case puts on the account from now on (a suspension escalated keeps its start); null: none. */
  hold: 'suspended' | 'terminated' | null;
  /** The suspension in force ends now: lifted by a dismissal, or its `until` day reached. */
  endsSuspension: boolean;
  /** The case's detectors are muted for the subscriber (a dismissal). */
  mutesDetectors: boolean;
  /** Nothing moves the case any more. */
  closed: boolean;
}

/** Whether a case still takes a decision: open, or suspended (to escalate or lift). */
export function awaitsDecision(state: AbuseCaseState): boolean {
  return state === 'open' || state === 'suspended';
}

/**
 * The state machine of an abuse case (DESIGN, "abuse"): an open case takes any action; a
 * suspended one may be escalated (`terminate`), lifted (`dismiss`: the suspension ends now and
 * the detectors are muted), or end at its `until` day (`resumed`); a closed case takes nothing:
 * the first decision stands. The workflow, the database's settlement and `decide`'s check use it.
 */
export function nextCaseState(from: AbuseCaseState, event: AbuseCaseEvent): AbuseCaseStep | { refused: string } {
  if (event === 'suspension-ended') {
    if (from !== 'suspended') return { refused: `the case is ${from}, not suspended: no suspension to end` };
    return { state: 'resumed', hold: null, endsSuspension: true, mutesDetectors: false, closed: true };
  }
  if (from === 'suspended' && event === 'suspend') return { refused: 'decide suspend: the account is already suspended by this case; terminate or dismiss (lift) it instead' };
  if (!awaitsDecision(from)) return { refused: `decide ${event}: the case is already ${from}: the first decision stands` };
  switch (event) {
    case 'suspend':
      return { state: 'suspended', hold: 'suspended', endsSuspension: false, mutesDetectors: false, closed: false };
    case 'terminate':
      return { state: 'terminated', hold: 'terminated', endsSuspension: false, mutesDetectors: false, closed: true };
    case 'dismiss':
      return { state: 'dismissed', hold: null, endsSuspension: from === 'suspended', mutesDetectors: true, closed: true };
  }
}

/**
 * Checks a decision against the case (nextCaseState). `today` is the subscriber's local day:
 * `until` must be later.
 */
export function checkAbuseDecision(payload: unknown, c: { state: AbuseCaseState; today: string }): { decision: AbuseDecision } | { problem: string } {
  const problem = payloadProblem(AbuseDecisionSchema, payload, 'decide');
  if (problem) return { problem };
  const p = payload as AbuseDecisionPayload;
  const step = nextCaseState(c.state, p.action);
  if ('refused' in step) return { problem: step.refused };
  if (p.until !== undefined) {
    if (p.action !== 'suspend') return { problem: `decide until "${p.until}" applies only to "suspend", not "${p.action}"` };
    if (daysBetween(c.today, p.until) < 1) return { problem: `decide until "${p.until}" must be after today (${c.today}) in the subscriber's zone` };
  }
  return { decision: { action: p.action, reviewer: p.reviewer, reason: p.reason.trim(), untilDay: p.until ?? null } };
}
