/**
 * The I/O of abuse prevention (issue 7): the daily scan of a batch of subscribers (their calls,
 * allowance, thresholds and muted detectors in; findings recorded once by key and announced to
 * their case's workflow), and each case's trail, decision, emails and the signals to the entity.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { answeredSecondsByDay, localDayBounds, runDetectors, scanWindow, trailingDays, type AbuseDecision } from '../billing/abuse';
import { abuseCaseOpenedEmail, abuseCaseReminderEmail, accountResumedEmail, accountSuspendedEmail, accountTerminatedEmail, type AbuseCaseEmailData } from '../billing/abuse/emails';
import { periodOf, periodsBetween } from '../billing/periods';
import { allowanceSeconds } from '../billing/rating';
import { termsForPeriod } from '../billing/terms';
import {
  abuseCaseFindings,
  abuseDismissals,
  countedCallsBetween,
  endSuspension,
  getAbuseCase,
  insertAbuseEvent,
  markAnnounced,
  recordFindings,
  accountHold,
  settleAbuseDecision,
  subscribersToScan,
  unannouncedFindings,
  type ScannedSubscriber,
} from '../db/abuse';
import { policyInEffectOn } from '../db/policies';
import { enqueueEmail } from '../db/outbox';
import { periodFacts } from '../db/terms';
import { getSubscriber, type Subscriber } from '../db/subscribers';
import type { PolicyVersion } from '../billing/policy';
import {
  abuseCaseWorkflowId,
  findingsAddedSignal,
  resumeSignal,
  subscriberWorkflowId,
  suspendSignal,
  terminateSignal,
  type ResumePayload,
  type SuspendPayload,
  type TerminatePayload,
} from '../workflows/messages';

export interface AbuseScanBatch {
  scanned: number;
  findings: number;
  /** Cases that got new findings in this batch. */
  cases: string[];
  /** The last subscriber scanned; null when there were none left. */
  lastId: string | null;
}

export type EntityMessage = { signal: 'suspend'; payload: SuspendPayload } | { signal: 'resume'; payload: ResumePayload } | { signal: 'terminate'; payload: TerminatePayload };

export function createAbuseActivities(pool: Pool, temporal: Client, taskQueue: string, supportEmail: string) {
  const policies = new Map<string, Promise<PolicyVersion>>();
  const policyOn = (day: string): Promise<PolicyVersion> => {
    let policy = policies.get(day);
    if (!policy) {
      policy = policyInEffectOn(pool, day);
      if (policies.size > 1000) policies.clear();
      policies.set(day, policy);
    }
    return policy;
  };

  /** One subscriber's day through the detectors, with what the policy and their limits say. */
  async function scanSubscriber(subscriber: ScannedSubscriber, day: string) {
    const zone = subscriber.timezone;
    const period = day.slice(0, 7);
    // The allowance is the month's (DESIGN, "allowance"; a partial month's is prorated); the thresholds are the day's.
    const [thresholdsPolicy, facts, dismissals] = await Promise.all([policyOn(day), periodFacts(pool, subscriber, period, { policyOn }), abuseDismissals(pool, subscriber.id)]);
    const thresholds = thresholdsPolicy.abuse;
    // The sudden-change baseline: the trailing days since the subscriber's service start.
    const baselineDays = trailingDays(day, thresholds.suddenChangeTrailingDays).filter((d) => d >= subscriber.serviceStart);
    const window = scanWindow(day, zone);
    const fromMs = Math.min(window.fromMs, baselineDays.length > 0 ? localDayBounds(baselineDays[0]!, zone).startMs : window.fromMs);
    const calls = await countedCallsBetween(pool, subscriber.id, periodsBetween(periodOf(fromMs, zone), period), fromMs, window.toMs);
    return runDetectors({
      subscriberId: subscriber.id,
      timeZone: zone,
      day,
      calls,
      allowanceSeconds: allowanceSeconds(termsForPeriod(facts)),
      trailingDailySeconds: answeredSecondsByDay(calls, zone, baselineDays),
      thresholds,
      dismissals,
    });
  }

  async function subscriberOrFail(id: string): Promise<Subscriber> {
    const subscriber = await getSubscriber(pool, id);
    if (!subscriber) throw ApplicationFailure.nonRetryable(`subscriber ${id} does not exist`, 'UnknownSubscriber');
    return subscriber;
  }

  async function load(caseId: string): Promise<{ data: AbuseCaseEmailData; subscriber: Subscriber }> {
    const record = await getAbuseCase(pool, caseId);
    if (!record) throw ApplicationFailure.nonRetryable(`abuse case ${caseId} does not exist`, 'UnknownAbuseCase');
    const subscriber = await subscriberOrFail(record.subscriberId);
    const findings = await abuseCaseFindings(pool, caseId);
    return { subscriber, data: { caseId, subscriberId: subscriber.id, subscriberName: subscriber.name, findings } };
  }
  const key = (caseId: string, purpose: string): string => `abuse-case:${caseId}:${purpose}`;

  return {
    /**
     * Scans the day of up to `limit` subscribers after `afterId`: new findings are recorded in
     * their subscriber's case, and each case's workflow is started or told (once per finding: a
     * retry announces what an earlier attempt recorded but did not announce).
     */
    async scanForAbuse(input: { day: string; afterId?: string; limit: number; reminderHours: number }): Promise<AbuseScanBatch> {
      const subscribers = await subscribersToScan(pool, input.day, input.afterId, input.limit);
      let findings = 0;
      const touched = new Set<string>();
      for (const subscriber of subscribers) {
        const found = await scanSubscriber(subscriber, input.day);
        findings += found.length;
        const caseId = await recordFindings(pool, subscriber.id, found);
        if (caseId) touched.add(caseId);
        heartbeat(subscriber.id);
      }
      const zones = new Map(subscribers.map((s) => [s.id, s.timezone]));
      for (const c of await unannouncedFindings(
        pool,
        subscribers.map((s) => s.id),
      )) {
        if (!c.current) {
          // Decided since they were recorded (a retry after a crash): the case's trail has them.
          await markAnnounced(
            pool,
            c.findings.map((f) => f.key),
          );
          continue;
        }
        await temporal.workflow.signalWithStart('abuseCaseWorkflow', {
          workflowId: abuseCaseWorkflowId(c.caseId),
          taskQueue,
          args: [{ caseId: c.caseId, subscriberId: c.subscriberId, timezone: zones.get(c.subscriberId)!, reminderHours: input.reminderHours }],
          signal: findingsAddedSignal,
          signalArgs: [c.findings],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          staticSummary: `Abuse case ${c.caseId}: ${c.subscriberId}, ${c.findings[0]!.detector} on ${c.findings[0]!.day}`,
          staticDetails: `${c.findings.map((f) => f.summary).join('\n\n')}\n\nDecide with the signal \`decide\` {"reviewer", "action": "suspend" | "terminate" | "dismiss", "reason", "until"?: "YYYY-MM-DD"}.`,
        });
        await markAnnounced(
          pool,
          c.findings.map((f) => f.key),
        );
        touched.add(c.caseId);
      }
      return { scanned: subscribers.length, findings, cases: [...touched].sort(), lastId: subscribers.at(-1)?.id ?? null };
    },

    /** Queues support's notice of a new case, once; returns its key. */
    async queueAbuseCaseNotice(input: { caseId: string }): Promise<string> {
      const { data, subscriber } = await load(input.caseId);
      const emailKey = key(input.caseId, 'opened');
      await enqueueCaseEmail(emailKey, subscriber.id, supportEmail, abuseCaseOpenedEmail(data));
      return emailKey;
    },

    /** Records the reminder and queues support's email, once; returns its key. */
    async queueAbuseReminder(input: { caseId: string; atMs: number; hoursWaiting: number }): Promise<string> {
      const { data, subscriber } = await load(input.caseId);
      const emailKey = key(input.caseId, 'reminder');
      await enqueueCaseEmail(emailKey, subscriber.id, supportEmail, abuseCaseReminderEmail({ ...data, hoursWaiting: input.hoursWaiting }));
      await insertAbuseEvent(pool, {
        key: `${input.caseId}:reminded`,
        caseId: input.caseId,
        atMs: input.atMs,
        actor: 'system',
        kind: 'reminded',
        detail: { to: supportEmail, hoursWaiting: input.hoursWaiting },
      });
      return emailKey;
    },

    /** Keeps a decision that changed nothing in the case's trail. */
    async recordInvalidAbuseDecision(input: { caseId: string; index: number; atMs: number; payload: unknown; problem: string }): Promise<void> {
      const reviewer = (input.payload as { reviewer?: unknown } | null)?.reviewer;
      await insertAbuseEvent(pool, {
        key: `${input.caseId}:invalid:${input.index}`,
        caseId: input.caseId,
        atMs: input.atMs,
        actor: typeof reviewer === 'string' && reviewer !== '' ? reviewer.slice(0, 64) : 'unknown',
        kind: 'invalid-decision',
        detail: { payload: input.payload ?? null, problem: input.problem },
      });
    },

    /**
     * Records support's decision and its effect on the account, and queues the subscriber's email
     * (a suspension, a termination, or a lifted suspension), once. Returns the email's key (null:
     * nothing to tell them) and, for a timed suspension, when it ends: the start of the `until`
     * day in the subscriber's zone.
     */
    async settleAbuseCase(input: {
      caseId: string;
      atMs: number;
      decision: AbuseDecision;
      localDay: string;
      lifting: boolean;
    }): Promise<{ emailKey: string | null; untilMs: number | null }> {
      const { data, subscriber } = await load(input.caseId);
      const d = input.decision;
      const untilMs = d.untilDay === null ? null : localDayBounds(d.untilDay, subscriber.timezone).startMs;
      const content =
        d.action === 'suspend'
          ? accountSuspendedEmail({ ...data, reason: d.reason, until: d.untilDay, supportEmail })
          : d.action === 'terminate'
            ? accountTerminatedEmail({ ...data, reason: d.reason, supportEmail })
            : input.lifting
              ? accountResumedEmail(data)
              : null;
      const emailKey = content ? key(input.caseId, d.action === 'dismiss' ? 'resumed' : d.action) : null;
      await settleAbuseDecision(pool, {
        caseId: input.caseId,
        atMs: input.atMs,
        decision: d,
        untilMs,
        localDay: input.localDay,
        email: content && emailKey ? { key: emailKey, purpose: 'abuse-case', subscriberId: subscriber.id, to: subscriber.email, ...content } : null,
      });
      return { emailKey, untilMs };
    },

    /** A timed suspension is over: recorded once, and the subscriber's email queued; returns its key. */
    async endAbuseSuspension(input: { caseId: string; atMs: number }): Promise<string> {
      const { data, subscriber } = await load(input.caseId);
      const emailKey = key(input.caseId, 'resumed');
      await endSuspension(pool, {
        caseId: input.caseId,
        atMs: input.atMs,
        email: { key: emailKey, purpose: 'abuse-case', subscriberId: subscriber.id, ...accountResumedEmail(data), to: subscriber.email },
      });
      return emailKey;
    },

    /**
     * Tells the subscriber's entity, starting it (at the month of their service start, as the
     * close does) when it is not running: a termination must reach a running cycle to be invoiced.
     */
    /**
     * Whether the named abuse case decided the hold a `suspend` or `terminate` signal claims for
     * this subscriber, as PostgreSQL records it, and from when: a signal typed by hand acts only
     * on a recorded decision.
     */
    async confirmAccountHold(input: {
      subscriberId: string;
      caseId: string;
      kind: 'suspended' | 'terminated';
    }): Promise<{ confirmed: true; startsAtMs: number } | { confirmed: false; reason: string }> {
      const hold = await accountHold(pool, input.caseId);
      if (!hold || hold.subscriberId !== input.subscriberId)
        return { confirmed: false, reason: `no abuse case ${input.caseId} of ${input.subscriberId} has decided a hold on the account` };
      if (hold.kind !== input.kind) return { confirmed: false, reason: `abuse case ${input.caseId} recorded ${hold.kind}, not ${input.kind}` };
      if (hold.ended) return { confirmed: false, reason: `the hold of abuse case ${input.caseId} has ended` };
      return { confirmed: true, startsAtMs: hold.startsAtMs };
    },

    async tellSubscriberEntity(input: { subscriberId: string } & EntityMessage): Promise<void> {
      const subscriber = await subscriberOrFail(input.subscriberId);
      const signal = input.signal === 'suspend' ? suspendSignal : input.signal === 'resume' ? resumeSignal : terminateSignal;
      await temporal.workflow.signalWithStart('subscriberWorkflow', {
        workflowId: subscriberWorkflowId(subscriber.id),
        taskQueue,
        args: [{ subscriberId: subscriber.id, period: subscriber.serviceStart.slice(0, 7) }],
        signal: signal as typeof suspendSignal,
        signalArgs: [input.payload as SuspendPayload],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    },
  };

  async function enqueueCaseEmail(emailKey: string, subscriberId: string, to: string, content: { subject: string; text: string; html: string }): Promise<void> {
    await enqueueEmail(pool, { key: emailKey, purpose: 'abuse-case', subscriberId, to, ...content });
  }
}
