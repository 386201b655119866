/**
 * policy-change-<version>: one policy revision from publication to activation (DESIGN, "policy
 * revision"; issue 6). It tells every subscriber not terminated (active or suspended: both are
 * billed) at publication, in bounded batches, and reminds them 7 days before the effective date;
 * it activates the version on that date, or holds it while anyone billed at publication was not
 * told a full notice period ahead (alerting billing operations), until they have been or ops
 * decide by `activate`. `cancel` before the date withdraws it and tells everyone who got the
 * notice. Both come as a signal or an Update (the Update's validator refuses what the core's rules
 * refuse, and an accepted one is answered once the decision is recorded). Every email is keyed per
 * version, kind and subscriber in the outbox, so a retry or a crash sends none twice and misses none.
 */
import { allHandlersFinished, condition, continueAsNew, log, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  activationPlan,
  cancelProblem,
  dayOf,
  forcedActivationProblem,
  reminderAtMs,
  unsentEmails,
  type ActivationPlan,
  type PolicyEmailProgress,
} from '../billing/policy-revision';
import { db } from './activity-proxies';
import {
  PolicyStateKey,
  policyActivateSignal,
  policyActivateUpdate,
  policyCancelSignal,
  policyCancelUpdate,
  policyChangeStatusQuery,
  subscriberJoinedSignal,
  type PolicyChangePhase,
  type PolicyChangeStatus,
  type PolicyDecision,
  type PolicyHold,
  type RejectedPolicySignal,
} from './messages';
import { DecisionReplies, refuse } from './decision-updates';

export interface PolicyChangeInput {
  version: number;
  /** YYYY-MM-DD; the version applies to cycles that begin on or after it (00:00 UTC). */
  effectiveFrom: string;
  /** The notice period of the version in force at publication. */
  noticeDays: number;
  /** Subscribers queued, and emails sent, per activity call. */
  batchSize?: number;
  /** The longest wait between attempts while the mail server fails. */
  retryMaxMinutes?: number;
  /** Continue as new past this many events even before the server suggests it (tests). */
  continueAsNewAfterEvents?: number;
  /** Carried across continue-as-new. */
  resume?: PolicyChangeCarry;
}

interface PolicyChangeCarry {
  publishedAtMs: number;
  noticeCursor: string | null;
  noticesQueued: boolean;
  reminderCursor: string | null;
  remindersQueued: boolean;
  /** A pass over all subscribers not terminated for any not told yet, before the reminders and before activation. */
  sweep: 'reminder' | 'activation' | null;
  sweepCursor: string | null;
  swept: string[];
  lastSentAtPublicationMs: number | null;
  alerts: string[];
  progress: PolicyEmailProgress;
  rejectedSignals: RejectedPolicySignal[];
  inbox: Signal[];
  retryDelayMs: number;
  retryAtMs: number | null;
  lastSendError: string | null;
}

type Signal = { signal: 'cancel' | 'activate'; payload: unknown };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const { sendPolicyEmails } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
  summary: "Send a batch of the revision's emails",
});

const zero = () => ({ sent: 0, pending: 0, failed: 0 });

export async function policyChangeWorkflow(input: PolicyChangeInput): Promise<PolicyChangeStatus> {
  const { version, effectiveFrom, noticeDays } = input;
  const batchSize = input.batchSize ?? 200;
  const retryMaxMs = (input.retryMaxMinutes ?? 60) * MINUTE_MS;
  const s: PolicyChangeCarry = input.resume ?? {
    publishedAtMs: workflowInfo().startTime.getTime(),
    noticeCursor: null,
    noticesQueued: false,
    reminderCursor: null,
    remindersQueued: false,
    sweep: null,
    sweepCursor: null,
    swept: [],
    lastSentAtPublicationMs: null,
    alerts: [],
    progress: { notice: zero(), reminder: zero(), cancellation: zero(), alert: zero(), unsentAtPublication: 0, unsentJoiners: 0 },
    rejectedSignals: [],
    inbox: [],
    retryDelayMs: 0,
    retryAtMs: null,
    lastSendError: null,
  };
  // A reminder within a day of the notice itself tells nobody anything new.
  const remindAtMs = reminderAtMs(effectiveFrom) > s.publishedAtMs + DAY_MS ? reminderAtMs(effectiveFrom) : null;
  if (remindAtMs === null) s.remindersQueued = true;

  let phase: PolicyChangePhase = 'notifying';
  let hold: PolicyHold | null = null;
  let activeFrom: string | null = null;
  let decision: PolicyDecision | null = null;
  /** The decision is recorded in PostgreSQL (the revision cancelled or activated). */
  let decisionRecorded = false;
  const replies = new DecisionReplies<PolicyDecision>();
  // Emails were queued since the last send (a page, a joiner, an alert): send before deciding.
  let queuedSinceSend = true;
  let joined = false;

  const status = (): PolicyChangeStatus => ({
    version,
    effectiveFrom,
    noticeDays,
    phase,
    publishedAt: new Date(s.publishedAtMs).toISOString(),
    reminderAt: remindAtMs === null ? null : new Date(remindAtMs).toISOString(),
    remindersQueued: s.remindersQueued,
    activeFrom,
    hold,
    progress: s.progress,
    lastSendError: s.lastSendError,
    nextAttemptAt: s.retryAtMs === null ? null : new Date(s.retryAtMs).toISOString(),
    decision,
    rejectedSignals: s.rejectedSignals,
  });
  // One search-attribute upsert per change of phase: each is a visibility write on the server.
  let shownPhase: PolicyChangePhase | null = null;
  const show = (): void => {
    if (phase !== shownPhase) upsertSearchAttributes([{ key: PolicyStateKey, value: phase }]);
    shownPhase = phase;
    const p = s.progress;
    const counts = (name: string, c: { sent: number; pending: number; failed: number }): string => `${name} ${c.sent} sent, ${c.pending} pending, ${c.failed} failed`;
    const where = {
      notifying: 'Telling subscribers.',
      scheduled: `Becomes active on ${effectiveFrom}.`,
      held:
        hold?.reason === 'notice-period'
          ? `Activation held until ${hold.activeFrom}: some notices went out late.`
          : `Activation held: ${hold?.unsent ?? 0} notice(s) not sent yet. Ops may signal \`activate\`.`,
      active: `Active from ${activeFrom}.`,
      cancelled: `Cancelled by ${decision?.operator ?? 'ops'}.`,
    }[phase];
    setCurrentDetails(
      `**Policy version ${version}**, effective ${effectiveFrom}: **${phase}**. ${where}\n\n${counts('Notices', p.notice)}; ${counts('reminders', p.reminder)}; ${counts('cancellations', p.cancellation)}.${s.lastSendError ? `\n\nMail server: ${s.lastSendError}` : ''}`,
    );
  };

  setHandler(policyCancelSignal, (payload) => {
    s.inbox.push({ signal: 'cancel', payload });
  });
  setHandler(policyActivateSignal, (payload) => {
    s.inbox.push({ signal: 'activate', payload });
  });
  /** The core's rules for `cancel` or `activate` now. */
  const decisionProblem = (kind: Signal['signal'], payload: unknown, nowMs: number): string | undefined => {
    const operator = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).operator : undefined;
    return kind === 'cancel' ? cancelProblem({ version, state: 'scheduled', effectiveFrom, nowMs }) : forcedActivationProblem({ version, effectiveFrom, nowMs, operator });
  };
  // The same as Updates: refused at once when the core's rules say no (nothing recorded), else
  // queued like a signal and answered once the decision is recorded, or with the reason it was refused.
  const decisionUpdate = (kind: Signal['signal']) => ({
    handler: async (payload: unknown): Promise<PolicyChangeStatus> => {
      const item: Signal = { signal: kind, payload };
      const verdict = replies.verdict(item);
      s.inbox.push(item);
      await verdict;
      await condition(() => decisionRecorded);
      return status();
    },
    validator: (payload: unknown): void => {
      const decided = phase === 'active' || phase === 'cancelled' ? phase : decision ? (decision.kind === 'cancel' ? 'cancelled' : 'active') : null;
      if (decided) refuse((kind === 'cancel' && cancelProblem({ version, state: decided, effectiveFrom, nowMs: Date.now() })) || `policy version ${version} is already ${decided}`);
      const problem = decisionProblem(kind, payload, Date.now());
      if (problem) refuse(problem);
    },
  });
  const cancelByUpdate = decisionUpdate('cancel');
  setHandler(policyCancelUpdate, cancelByUpdate.handler, { validator: cancelByUpdate.validator });
  const activateByUpdate = decisionUpdate('activate');
  setHandler(policyActivateUpdate, activateByUpdate.handler, { validator: activateByUpdate.validator });
  setHandler(subscriberJoinedSignal, () => {
    joined = true;
  });
  setHandler(policyChangeStatusQuery, status);
  show();

  /** Sends one batch; on a failure, waits before the next attempt, longer each time up to retryMaxMs. */
  const sendBatch = async (): Promise<void> => {
    const result = await sendPolicyEmails({ version, limit: batchSize });
    queuedSinceSend = false;
    s.progress = result.progress;
    if (result.noticesSentAtPublication > 0) s.lastSentAtPublicationMs = Date.now();
    if (result.failed > 0 || (result.sent === 0 && unsentEmails(result.progress) > 0)) {
      s.retryDelayMs = Math.min(Math.max(MINUTE_MS, s.retryDelayMs * 2), retryMaxMs);
      s.retryAtMs = Date.now() + s.retryDelayMs;
      s.lastSendError = result.stoppedBy ?? (result.failed > 0 ? `${result.failed} recipient(s) refused` : s.lastSendError);
    } else {
      s.retryDelayMs = 0;
      s.retryAtMs = null;
      s.lastSendError = null;
    }
  };
  const sendingDue = (): boolean => (queuedSinceSend || unsentEmails(s.progress) > 0) && (s.retryAtMs === null || Date.now() >= s.retryAtMs);
  const reject = (signal: Signal, problem: string): void => {
    log.warn('policy-change signal refused', { version, signal: signal.signal, problem });
    s.rejectedSignals.push({ at: new Date(Date.now()).toISOString(), signal: signal.signal, payload: signal.payload ?? null, problem });
    replies.answer(signal, { problem });
  };
  const textOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 500) : null);

  /** The first valid `cancel` or `activate` in the inbox; invalid ones are recorded and change nothing. */
  const nextDecision = (): PolicyDecision | null => {
    while (s.inbox.length > 0) {
      const signal = s.inbox.shift()!;
      const payload = (typeof signal.payload === 'object' && signal.payload !== null ? signal.payload : {}) as Record<string, unknown>;
      const nowMs = Date.now();
      const problem = decisionProblem(signal.signal, payload, nowMs);
      if (problem) {
        reject(signal, problem);
        continue;
      }
      const taken: PolicyDecision = { kind: signal.signal, operator: textOf(payload.operator) ?? 'unknown', reason: textOf(payload.reason), at: new Date(nowMs).toISOString() };
      replies.answer(signal, { decision: taken });
      return taken;
    }
    return null;
  };

  /** Sends until nothing of the revision is left unsent, waiting out mail server failures. */
  const sendRemaining = async (): Promise<void> => {
    for (;;) {
      for (let signal = s.inbox.shift(); signal; signal = s.inbox.shift()) reject(signal, `policy version ${version} is already ${phase}`);
      show();
      if (unsentEmails(s.progress) === 0) return;
      if (s.retryAtMs !== null && Date.now() < s.retryAtMs) await condition(() => s.inbox.length > 0, s.retryAtMs - Date.now());
      else await sendBatch();
    }
  };

  const activate = async (from: string, by: string): Promise<PolicyChangeStatus> => {
    await db(`Activate version ${version} from ${from}`).activatePolicyRevision({ version, activeFrom: from, atMs: Date.now(), by });
    activeFrom = from;
    phase = 'active';
    hold = null;
    decisionRecorded = true;
    // Activated by ops while notices were held up: they still go out, late (reminders are withdrawn).
    await sendBatch();
    await sendRemaining();
    await condition(allHandlersFinished);
    return status();
  };

  for (;;) {
    // A long revision (many subscribers, days of retries) goes on in a new run with its state.
    // Not under a waiting Update: its answer comes from this run (the next turn takes the decision).
    if ((workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.continueAsNewAfterEvents ?? Infinity)) && replies.pending === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof policyChangeWorkflow>({ ...input, resume: s });
    }
    decision = nextDecision();
    if (decision?.kind === 'cancel') break;
    if (decision?.kind === 'activate') return activate(dayOf(Date.now()), `ops:${decision.operator}`);
    if (joined) {
      joined = false;
      queuedSinceSend = true;
    }
    const reminderDue = !s.remindersQueued && remindAtMs !== null && Date.now() >= remindAtMs;
    if (!s.noticesQueued) {
      const page = await db('Queue a page of notices').queuePolicyEmails({ version, kind: 'notice', afterId: s.noticeCursor, limit: batchSize, atPublication: true });
      s.noticeCursor = page.lastId;
      s.noticesQueued = page.done;
      queuedSinceSend = true;
    } else if (s.sweep !== null || (reminderDue && !s.swept.includes('reminder'))) {
      // Anyone billed and not told (one added without the CLI, a CLI that died before queueing
      // their notice) is told now, before the reminders and the activation.
      s.sweep ??= 'reminder';
      const page = await db('Look for active subscribers not told yet').queuePolicyEmails({
        version,
        kind: 'notice',
        afterId: s.sweepCursor,
        limit: batchSize,
        atPublication: false,
      });
      s.sweepCursor = page.lastId;
      if (page.done) {
        s.swept.push(s.sweep);
        s.sweep = null;
        s.sweepCursor = null;
      }
      queuedSinceSend = true;
    } else if (reminderDue) {
      const page = await db('Queue a page of reminders').queuePolicyEmails({ version, kind: 'reminder', afterId: s.reminderCursor, limit: batchSize, atPublication: false });
      s.reminderCursor = page.lastId;
      s.remindersQueued = page.done;
      queuedSinceSend = true;
    }
    if (sendingDue()) {
      await sendBatch();
      show();
      continue;
    }
    if (!s.noticesQueued || s.sweep !== null || reminderDue) continue;

    const plan: ActivationPlan = activationPlan({
      effectiveFrom,
      noticeDays,
      nowMs: Date.now(),
      notices: {
        allQueued: s.noticesQueued,
        unsentAtPublication: s.progress.unsentAtPublication,
        unsentJoiners: s.progress.unsentJoiners,
        lastSentAtPublicationMs: s.lastSentAtPublicationMs,
      },
    });
    if (plan.kind === 'activate') {
      if (s.swept.includes('activation')) return activate(plan.activeFrom, 'system');
      s.sweep = 'activation';
      continue;
    }
    if (plan.kind === 'hold') {
      const tag = plan.reason === 'notice-period' ? `until-${plan.activeFrom}` : 'unsent';
      const previous = hold as PolicyHold | null;
      hold = {
        reason: plan.reason,
        since: previous?.reason === plan.reason ? previous.since : new Date(Date.now()).toISOString(),
        ...(plan.reason === 'notice-period' ? { activeFrom: plan.activeFrom } : { unsent: plan.unsent }),
      };
      phase = 'held';
      if (!s.alerts.includes(tag)) {
        log.warn('policy activation held', { version, ...hold });
        await db('Alert billing operations: activation held').queuePolicyHoldAlert({
          version,
          effectiveFrom,
          noticeDays,
          tag,
          ...(plan.reason === 'notice-period' ? { activeFrom: plan.activeFrom } : { unsent: plan.unsent }),
        });
        s.alerts.push(tag);
        queuedSinceSend = true;
        show();
        continue;
      }
    } else {
      hold = null;
      phase = unsentEmails(s.progress) > 0 ? 'notifying' : 'scheduled';
    }
    show();

    const wakes = [unsentEmails(s.progress) > 0 ? s.retryAtMs : null, !s.remindersQueued ? remindAtMs : null, 'atMs' in plan ? plan.atMs : null].filter(
      (t): t is number => t !== null,
    );
    const wakeAtMs = wakes.length ? Math.min(...wakes) : null;
    const waitMs = wakeAtMs === null ? undefined : Math.max(wakeAtMs - Date.now(), 1);
    if (waitMs === undefined) await condition(() => s.inbox.length > 0 || joined);
    else await condition(() => s.inbox.length > 0 || joined, waitMs);
  }

  // Cancelled before the date: withdraw what was not sent, tell everyone who got the notice.
  const cancel = decision!;
  phase = 'cancelled';
  hold = null;
  show();
  await db(`Cancel version ${version}`).cancelPolicyRevision({ version, atMs: Date.now(), by: `ops:${cancel.operator}`, reason: cancel.reason });
  decisionRecorded = true;
  let cursor: string | null = null;
  for (;;) {
    const page: { lastId: string | null; done: boolean } = await db('Queue a page of cancellations').queuePolicyEmails({
      version,
      kind: 'cancellation',
      afterId: cursor,
      limit: batchSize,
      atPublication: false,
    });
    cursor = page.lastId;
    await sendBatch();
    if (page.done) break;
  }
  await sendRemaining();
  await condition(allHandlersFinished);
  return status();
}
