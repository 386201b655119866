/**
 * abuse-case-<caseId>: a subscriber's suspected abuse awaiting customer support (DESIGN,
 * "Processes" and "abuse"; the policy's "Abuse Prevention"). Started by the daily scan with the
 * first findings, told of later ones by `findingsAdded`, it mails support, waits for `decide`, as
 * a signal or an Update (checked by the core's rules and against active support staff; the first
 * valid decision wins, invalid ones are recorded and change nothing; an Update's validator refuses
 * what breaks the core's rules before it is recorded anywhere), reminds support once, and carries the decision
 * out: suspend (until a day, then resumed automatically), terminate (the entity ends the
 * subscription with a final invoice), or dismiss (the case's detectors are muted). A suspended
 * case stays open for a later `terminate`, or a `dismiss` that lifts the suspension.
 */
import { allHandlersFinished, condition, log, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { awaitsDecision, checkAbuseDecision, dayOf, nextCaseState, type AbuseCaseState, type AbuseDecision } from '../billing/abuse';
import { db, mail } from './activity-proxies';
import {
  AbuseDetectorKey,
  CaseStateKey,
  SubscriberIdKey,
  abuseCaseStatusQuery,
  decideSignal,
  decideUpdate,
  findingsAddedSignal,
  type AbuseCaseStatus,
  type CaseFinding,
  type RejectedAbuseDecision,
} from './messages';
import { DecisionReplies, refuse } from './decision-updates';

export interface AbuseCaseInput {
  caseId: string;
  subscriberId: string;
  /** The subscriber's zone: a suspension's `until` day and a dismissal's day are theirs. */
  timezone: string;
  /** BILLING_ABUSE_REMINDER_HOURS: support is reminded once after this long without a decision. */
  reminderHours: number;
}

const HOUR_MS = 3_600_000;

export async function abuseCaseWorkflow(input: AbuseCaseInput): Promise<AbuseCaseStatus> {
  const { caseId, subscriberId } = input;
  const openedAtMs = workflowInfo().startTime.getTime();
  const remindAtMs = openedAtMs + input.reminderHours * HOUR_MS;

  let state = 'open' as AbuseCaseState; // not narrowed: carryOut changes it
  let decision: AbuseDecision | null = null;
  let settled = false;
  let reminded = false;
  let untilMs: number | null = null;
  const findings: CaseFinding[] = [];
  const rejectedDecisions: RejectedAbuseDecision[] = [];
  const inbox: { payload: unknown }[] = [];
  const replies = new DecisionReplies<AbuseDecision>();

  const status = (): AbuseCaseStatus => ({
    caseId,
    subscriberId,
    state,
    findings,
    decision,
    settled,
    reminded,
    rejectedDecisions,
    suspendedUntil: untilMs === null ? null : new Date(untilMs).toISOString(),
    openedAt: new Date(openedAtMs).toISOString(),
    remindAt: new Date(remindAtMs).toISOString(),
  });
  // What support sees in the UI: `CaseState = "open"` finds every case waiting for them.
  const show = (details: string): void => {
    const detectors = [...new Set(findings.map((f) => f.detector))].sort();
    upsertSearchAttributes([
      { key: SubscriberIdKey, value: subscriberId },
      { key: AbuseDetectorKey, value: detectors },
      { key: CaseStateKey, value: state },
    ]);
    setCurrentDetails([`**${caseId}**: ${subscriberId}, **${state}**. ${details}`, ...findings.map((f) => `- ${f.day} ${f.detector}: ${f.summary}`)].join('\n'));
  };

  setHandler(findingsAddedSignal, (added) => {
    for (const f of Array.isArray(added) ? added : []) {
      if (!findings.some((known) => known.key === f.key)) findings.push(f);
    }
  });
  // Decisions are checked one at a time, in arrival order, in the main loop: the first valid one wins.
  setHandler(decideSignal, (payload) => {
    inbox.push({ payload });
  });
  /** The core's rules for a decision now, with who decided a closed case. */
  const check = (payload: unknown, atMs: number): { decision: AbuseDecision } | { problem: string } => {
    const result = checkAbuseDecision(payload, { state, today: dayOf(atMs, input.timezone) });
    if ('problem' in result && decision && state !== 'suspended') return { problem: `${result.problem} (${state} by ${decision.reviewer})` };
    return result;
  };
  // The same as an Update: refused at once when the core's rules say no (nothing recorded), else
  // queued like a signal and answered when it is carried out, or with the reason it was refused.
  setHandler(
    decideUpdate,
    async (payload) => {
      const item = { payload };
      const verdict = replies.verdict(item);
      inbox.push(item);
      const taken = await verdict;
      await condition(() => settled && decision === taken);
      return status();
    },
    {
      validator: (payload) => {
        const result = check(payload, Date.now());
        if ('problem' in result) refuse(result.problem);
      },
    },
  );
  setHandler(abuseCaseStatusQuery, status);

  // The scan starts the case with its first findings (signal-with-start): they are here already.
  await condition(() => findings.length > 0);
  const howToDecide = 'Decide with the signal `decide` {"reviewer", "action": "suspend" | "terminate" | "dismiss", "reason", "until"?}.';
  show(`${howToDecide} Reminder to support at ${new Date(remindAtMs).toISOString()}.`);
  await mail('Email support the new case').deliverEmail({ key: await db("Queue support's notice").queueAbuseCaseNotice({ caseId }) });

  /** The next decision in the inbox, checked; invalid ones are recorded and yield null. */
  const nextDecision = async (): Promise<AbuseDecision | null> => {
    const item = inbox.shift()!;
    const { payload } = item;
    const atMs = Date.now();
    let problem: string | undefined;
    const result = check(payload, atMs);
    if ('problem' in result) {
      problem = result.problem;
    } else {
      problem = (await db(`Is ${result.decision.reviewer} active support staff?`).checkReviewer({ reviewer: result.decision.reviewer })) ?? undefined;
      if (!problem) {
        replies.answer(item, result);
        return result.decision;
      }
    }
    log.warn('abuse decision rejected', { caseId, problem });
    // In the case's trail first, then in the status: whoever reads the status finds it in both.
    await db('Record the invalid decision').recordInvalidAbuseDecision({ caseId, index: rejectedDecisions.length + 1, atMs, payload: payload ?? null, problem: problem! });
    rejectedDecisions.push({ at: new Date(atMs).toISOString(), payload: payload ?? null, problem: problem! });
    replies.answer(item, { problem: problem! });
    return null;
  };

  /** Records the decision, tells the entity, mails the subscriber. */
  const carryOut = async (d: AbuseDecision): Promise<void> => {
    const step = nextCaseState(state, d.action);
    if ('refused' in step) throw new Error(step.refused); // never: nextDecision checked it against this state
    const lifting = step.endsSuspension;
    decision = d;
    settled = false;
    state = step.state;
    show(`Decided by ${d.reviewer}: ${d.action}; carrying it out.`);
    const atMs = Date.now();
    const result = await db(`Record the ${d.action}`).settleAbuseCase({ caseId, atMs, decision: d, localDay: dayOf(atMs, input.timezone), lifting });
    untilMs = d.action === 'suspend' ? result.untilMs : null;
    if (d.action === 'suspend') {
      await db("Tell the subscriber's cycle: suspended").tellSubscriberEntity({
        subscriberId,
        signal: 'suspend',
        payload: { caseId, reason: d.reason, until: untilMs === null ? null : new Date(untilMs).toISOString() },
      });
    } else if (d.action === 'terminate') {
      await db("Tell the subscriber's cycle: terminated").tellSubscriberEntity({ subscriberId, signal: 'terminate', payload: { caseId, reason: d.reason } });
    } else if (lifting) {
      await db("Tell the subscriber's cycle: resumed").tellSubscriberEntity({ subscriberId, signal: 'resume', payload: { caseId } });
    }
    if (result.emailKey) await mail(`Email the subscriber: ${d.action}`).deliverEmail({ key: result.emailKey });
    settled = true;
    const outcome =
      d.action === 'suspend'
        ? `Suspended by ${d.reviewer} ${untilMs === null ? 'until lifted' : `until ${new Date(untilMs).toISOString()}`}: ${d.reason}. Terminate, or dismiss to lift it.`
        : d.action === 'terminate'
          ? `Terminated by ${d.reviewer}: ${d.reason}. The final invoice comes from the subscriber's cycle.`
          : `Dismissed by ${d.reviewer}${lifting ? ' (suspension lifted)' : ''}: ${d.reason}. The case's detectors are muted for this subscriber.`;
    show(outcome);
  };

  // Open, then (when suspended) until the suspension ends or a further decision: whichever first.
  while (awaitsDecision(state)) {
    if (inbox.length > 0) {
      const valid = await nextDecision();
      if (valid) await carryOut(valid);
      continue;
    }
    const now = Date.now();
    if (state === 'open' && !reminded && now >= remindAtMs) {
      const key = await db('Queue the reminder to support').queueAbuseReminder({ caseId, atMs: now, hoursWaiting: input.reminderHours });
      await mail('Email the reminder').deliverEmail({ key });
      reminded = true;
      show(`Support reminded. ${howToDecide}`);
      continue;
    }
    if (state === 'suspended' && untilMs !== null && now >= untilMs) {
      const key = await db('Record the end of the suspension').endAbuseSuspension({ caseId, atMs: now });
      await db("Tell the subscriber's cycle: resumed").tellSubscriberEntity({ subscriberId, signal: 'resume', payload: { caseId } });
      await mail('Email the subscriber: resumed').deliverEmail({ key });
      const ended = nextCaseState(state, 'suspension-ended');
      if (!('refused' in ended)) state = ended.state;
      show(`Suspension by ${decision!.reviewer} ended at ${new Date(untilMs).toISOString()}; the account is active again.`);
      break;
    }
    const wakeAtMs = state === 'open' ? (reminded ? undefined : remindAtMs) : (untilMs ?? undefined);
    if (wakeAtMs === undefined) await condition(() => inbox.length > 0);
    else await condition(() => inbox.length > 0, wakeAtMs - now);
  }
  await condition(allHandlersFinished);
  return status();
}
