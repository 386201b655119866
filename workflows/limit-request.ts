/**
 * limit-request-<requestId>: one limit-increase request awaiting customer support (DESIGN,
 * "Processes"; the policy's "reviewed on a case-by-case basis by our customer support team").
 * It tells the subscriber and support, waits for `approve` or `reject`, as a signal or an Update
 * (checked by the core's rules and against active support staff; the first valid one wins,
 * invalid ones are recorded and change nothing; an Update's validator refuses what breaks the
 * core's rules before it is recorded anywhere), reminds support once, expires the request when
 * nobody decides, and on approval records the raised limit and tells the subscriber's entity. It stays open, recording
 * late decisions as invalid, until the request's expiry time or the limit's end, whichever is later.
 */
import { allHandlersFinished, condition, getExternalWorkflowHandle, log, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { checkDecision, type LimitDecision, type LimitRequestState } from '../billing/limits';
import { openPeriodAt, periodOf } from '../billing/periods';
import { DEFAULT_CLOSE_GRACE_HOURS } from './subscriber-legacy';
import { db, mail } from './activity-proxies';
import {
  RequestStateKey,
  SubscriberIdKey,
  approveSignal,
  approveUpdate,
  limitChangedSignal,
  limitRequestStatusQuery,
  rejectSignal,
  rejectUpdate,
  subscriberWorkflowId,
  type LimitRequestStatus,
  type RejectedDecision,
} from './messages';
import { DecisionReplies, refuse } from './decision-updates';

export interface LimitRequestInput {
  requestId: string;
  subscriberId: string;
  requestedMinutes: number;
  /** The subscriber's zone: the limit starts with their month in progress when it is approved. */
  timezone: string;
  /** The limit when the request was made, and the ceiling (BILLING_LIMIT_CEILING_MINUTES). */
  currentLimitMinutes: number;
  ceilingMinutes: number;
  /** BILLING_LIMIT_REMINDER_HOURS and BILLING_LIMIT_EXPIRY_DAYS. */
  reminderHours: number;
  expiryDays: number;
  /** The close's grace period: an approval made in it applies to the month still open. Default 6 h. */
  graceHours?: number;
}

/**
 * Patch: an approval's month is the month still open in the subscriber's zone (the one just ended,
 * during the close's grace period), taken from the same reading of the time as the `until` check.
 * Before it, the start month was read again when the decision was carried out.
 */
export const ONE_READING_PATCH = 'limit-approval-one-reading';

const HOUR_MS = 3_600_000;

export async function limitRequestWorkflow(input: LimitRequestInput): Promise<LimitRequestStatus> {
  const { requestId, subscriberId } = input;
  const requestedAtMs = workflowInfo().startTime.getTime();
  const remindAtMs = requestedAtMs + input.reminderHours * HOUR_MS;
  const expiresAtMs = requestedAtMs + input.expiryDays * 24 * HOUR_MS;
  const rules = { currentLimitMinutes: input.currentLimitMinutes, ceilingMinutes: input.ceilingMinutes };

  let state: LimitRequestState = 'pending';
  let decision: LimitDecision | null = null;
  let settled = false;
  let fromPeriod: string | null = null;
  let ended = false;
  let reminded = false;
  const rejectedDecisions: RejectedDecision[] = [];
  const inbox: { signal: 'approve' | 'reject'; payload: unknown }[] = [];
  const replies = new DecisionReplies<LimitDecision>();

  const status = (): LimitRequestStatus => ({
    requestId,
    subscriberId,
    requestedMinutes: input.requestedMinutes,
    state,
    decision,
    settled,
    fromPeriod,
    ended,
    reminded,
    requestedAt: new Date(requestedAtMs).toISOString(),
    remindAt: new Date(remindAtMs).toISOString(),
    expiresAt: new Date(expiresAtMs).toISOString(),
    rules,
    rejectedDecisions,
  });
  // What support sees in the UI: `RequestState = "pending"` finds every request waiting for them.
  const show = (details: string): void => {
    upsertSearchAttributes([
      { key: SubscriberIdKey, value: subscriberId },
      { key: RequestStateKey, value: state },
    ]);
    setCurrentDetails(`**${requestId}**: ${subscriberId} asks for ${input.requestedMinutes} min a month. **${state}**. ${details}`);
  };

  /** Why no decision is taken any more, whatever it says. */
  const closedProblem = (signal: 'approve' | 'reject'): string | undefined => {
    if (decision) return `${signal} after the request was already ${state} by ${decision.reviewer}: the first decision stands`;
    if (state === 'expired') return `${signal} after the request expired at ${new Date(expiresAtMs).toISOString()}`;
    return undefined;
  };

  // Decisions are checked one at a time, in arrival order, in the main loop: the first valid one wins.
  setHandler(approveSignal, (payload) => {
    inbox.push({ signal: 'approve', payload });
  });
  setHandler(rejectSignal, (payload) => {
    inbox.push({ signal: 'reject', payload });
  });
  // The same as Updates: refused at once when the core's rules say no (nothing recorded), else
  // queued like a signal and answered when it is carried out, or with the reason it was refused.
  const decisionUpdate = (signal: 'approve' | 'reject') => ({
    handler: async (payload: unknown): Promise<LimitRequestStatus> => {
      const item = { signal, payload };
      const verdict = replies.verdict(item);
      inbox.push(item);
      await verdict;
      await condition(() => settled);
      return status();
    },
    validator: (payload: unknown): void => {
      const closed = closedProblem(signal);
      if (closed) refuse(closed);
      const currentPeriod = openPeriodAt(Date.now(), input.timezone, input.graceHours ?? DEFAULT_CLOSE_GRACE_HOURS);
      const result = checkDecision(signal, payload, { ...rules, requestedMinutes: input.requestedMinutes, currentPeriod });
      if ('problem' in result) refuse(result.problem);
    },
  });
  const approveByUpdate = decisionUpdate('approve');
  setHandler(approveUpdate, approveByUpdate.handler, { validator: approveByUpdate.validator });
  const rejectByUpdate = decisionUpdate('reject');
  setHandler(rejectUpdate, rejectByUpdate.handler, { validator: rejectByUpdate.validator });
  setHandler(limitRequestStatusQuery, status);

  show(`Decide with the signal \`approve\` or \`reject\`; reminder to support at ${new Date(remindAtMs).toISOString()}, expires at ${new Date(expiresAtMs).toISOString()}.`);
  const notices = await db('Queue acknowledgement and support notice').queueLimitRequestNotices({
    requestId,
    reminderHours: input.reminderHours,
    expiryDays: input.expiryDays,
    currentLimitMinutes: input.currentLimitMinutes,
  });
  for (const key of notices) await mail(`Email ${key}`).deliverEmail({ key });

  /** The month a valid decision applies from, read with its checks (patch ONE_READING_PATCH). */
  let decidedPeriod: string | undefined;

  /** The next decision in the inbox, checked; invalid ones are recorded and yield null. */
  const nextDecision = async (): Promise<LimitDecision | null> => {
    const item = inbox.shift()!;
    const { signal, payload } = item;
    const atMs = Date.now();
    let problem: string | undefined = closedProblem(signal);
    let checked: LimitDecision | undefined;
    if (!problem) {
      const oneReading = patched(ONE_READING_PATCH);
      const currentPeriod = oneReading ? openPeriodAt(atMs, input.timezone, input.graceHours ?? DEFAULT_CLOSE_GRACE_HOURS) : periodOf(atMs, input.timezone);
      const result = checkDecision(signal, payload, { ...rules, requestedMinutes: input.requestedMinutes, currentPeriod });
      if ('problem' in result) problem = result.problem;
      else {
        problem = (await db(`Is ${result.decision.reviewer} active support staff?`).checkReviewer({ reviewer: result.decision.reviewer })) ?? undefined;
        if (!problem) {
          checked = result.decision;
          if (oneReading) decidedPeriod = currentPeriod;
        }
      }
    }
    if (checked) {
      replies.answer(item, { decision: checked });
      return checked;
    }
    log.warn('limit decision rejected', { requestId, signal, problem });
    // In the request's record first, then in the status: whoever reads the status finds it in both.
    await db(`Record the invalid ${signal}`).recordInvalidDecision({ requestId, index: rejectedDecisions.length + 1, atMs, signal, payload: payload ?? null, problem: problem! });
    rejectedDecisions.push({ at: new Date(atMs).toISOString(), signal, payload: payload ?? null, problem: problem! });
    replies.answer(item, { problem: problem! });
    return null;
  };

  // Pending: a decision, the reminder (once), or the expiry, whichever comes first.
  while (state === 'pending') {
    if (inbox.length > 0) {
      const valid = await nextDecision();
      if (valid) {
        decision = valid;
        state = valid.kind === 'approve' ? 'approved' : 'rejected';
      }
      continue;
    }
    const now = Date.now();
    if (now >= expiresAtMs) {
      state = 'expired';
      break;
    }
    if (!reminded && remindAtMs < expiresAtMs && now >= remindAtMs) {
      const key = await db('Queue the reminder to support').queueLimitReminder({ requestId, atMs: now, hoursWaiting: input.reminderHours, expiresAtMs });
      await mail('Email the reminder').deliverEmail({ key });
      reminded = true;
      show(`Support reminded; expires at ${new Date(expiresAtMs).toISOString()}.`);
      continue;
    }
    const wakeAtMs = !reminded && remindAtMs < expiresAtMs ? remindAtMs : expiresAtMs;
    await condition(() => inbox.length > 0, wakeAtMs - now);
  }

  let endsAtMs: number | null = null;
  const atMs = Date.now();
  if (state === 'expired') {
    show('Not decided in time; the subscriber is told.');
    const key = await db('Expire the request').expireLimitRequest({ requestId, atMs, expiryDays: input.expiryDays });
    await mail('Email the expiry').deliverEmail({ key });
  } else if (decision) {
    show(`Decided by ${decision.reviewer}; carrying it out.`);
    fromPeriod = decidedPeriod ?? periodOf(atMs, input.timezone);
    const key = await db('Record the decision').settleLimitDecision({ requestId, atMs, decision, fromPeriod });
    if (decision.kind === 'approve') {
      const grant = { requestId, minutes: decision.minutes, fromPeriod, untilPeriod: decision.untilPeriod };
      ({ endsAtMs } = await db(`Apply the ${decision.minutes}-minute limit`).applyLimit({ atMs, subscriberId, grant }));
      try {
        await getExternalWorkflowHandle(subscriberWorkflowId(subscriberId)).signal(limitChangedSignal, grant);
      } catch (error) {
        // No cycle running (yet): the limit is in PostgreSQL, where every close reads it.
        log.info('subscriber cycle not running; limit recorded only', { subscriberId, error: String(error) });
      }
    }
    await mail('Email the decision').deliverEmail({ key });
  }
  settled = true;
  const outcome =
    decision?.kind === 'approve'
      ? `Limit ${decision.minutes} min from ${fromPeriod}${decision.untilPeriod ? ` to ${decision.untilPeriod}` : ', no end'}, approved by ${decision.reviewer}.`
      : decision
        ? `Rejected by ${decision.reviewer}: ${decision.reason}`
        : 'Expired without a decision.';
  show(outcome);

  // Open until the later of the expiry time and the limit's end: late decisions are recorded as
  // invalid, and the end of a limit is entered in the trail when it passes.
  const closeAtMs = Math.max(expiresAtMs, endsAtMs ?? 0);
  for (;;) {
    const now = Date.now();
    if (endsAtMs !== null && !ended && now >= endsAtMs && decision?.kind === 'approve') {
      await db('Record the end of the limit').recordLimitEnded({ requestId, atMs: now, untilPeriod: decision.untilPeriod! });
      ended = true;
      show(`${outcome} Ended after ${decision.untilPeriod}; the policy's limit applies again.`);
      continue;
    }
    if (inbox.length > 0) {
      await nextDecision();
      continue;
    }
    if (now >= closeAtMs) break;
    const wakeAtMs = endsAtMs !== null && !ended ? Math.min(endsAtMs, closeAtMs) : closeAtMs;
    await condition(() => inbox.length > 0, wakeAtMs - now);
  }
  await condition(allHandlersFinished);
  return status();
}
