/** The I/O of a month close: page through subscribers, hand each entity its close, watch progress. */
import { ApplicationFailure, Context, heartbeat, sleep } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { closeSummaryEmail } from '../billing/emails';
import { closeComplete } from '../billing/month-close';
import { isValidPeriod } from '../billing/periods';
import { closeProgressSnapshot, recordCloseFailure, recordCloseRequests, subscribersNotAskedToClose, type CloseProgressSnapshot } from '../db/month-close';
import { enqueueEmail } from '../db/outbox';
import { policyInEffectOn } from '../db/policies';
import { billableSubscriberIds } from '../db/subscribers';
import { recordCloseProgress } from '../telemetry/metrics';
import { closeCycleSignal, monthCloseWorkflowId, subscriberWorkflowId } from '../workflows/messages';
import type { MonthCloseSummary } from '../workflows/month-close';

export type { CloseProgressSnapshot };

/** Close requests in flight at once from one activity. */
const SIGNAL_CONCURRENCY = 16;

/** Subscribers the waiting phase asks at most per poll, when nobody asked them yet. */
const MISSED_PER_POLL = 500;

/**
 * `closeGraceHours` is the worker's configured grace period (config/index.ts,
 * BILLING_CLOSE_GRACE_HOURS): the one a close asked without a grace of its own gives each
 * subscriber, and the one a termination's close uses (closeSettings).
 */
export function createMonthCloseActivities(pool: Pool, temporal: Client, taskQueue: string, billingOpsEmail: string, closeGraceHours: number) {
  const snapshot = async (period: string): Promise<CloseProgressSnapshot> => {
    const current = await closeProgressSnapshot(pool, period);
    recordCloseProgress(period, current);
    return current;
  };

  /** signalWithStart to each entity, 16 at a time; `progress` after each; then remembered as asked. */
  async function signalCloses(
    period: string,
    graceHours: number | undefined,
    subscribers: { id: string; serviceStart: string }[],
    progress: (done: number) => void,
  ): Promise<void> {
    let next = 0;
    let done = 0;
    const signaller = async (): Promise<void> => {
      while (next < subscribers.length) {
        const subscriber = subscribers[next++]!;
        await temporal.workflow.signalWithStart('subscriberWorkflow', {
          workflowId: subscriberWorkflowId(subscriber.id),
          taskQueue,
          args: [{ subscriberId: subscriber.id, period: subscriber.serviceStart.slice(0, 7) }],
          signal: closeCycleSignal,
          signalArgs: [{ period, graceHours: graceHours ?? closeGraceHours }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
        done += 1;
        progress(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SIGNAL_CONCURRENCY, subscribers.length) }, signaller));
    await recordCloseRequests(
      pool,
      period,
      subscribers.map((s) => s.id),
    );
  }

  return {
    async listBillableSubscribers(input: { period: string; afterId?: string; limit: number }): Promise<{ id: string; serviceStart: string }[]> {
      return billableSubscriberIds(pool, input.period, input.afterId, input.limit);
    },

    /**
     * Signals each subscriber's entity to close the period, starting the entity at the month of
     * its service start when it is not running. A signal is idempotent at the entity: a period it
     * already closed is ignored.
     */
    async requestCycleCloses(input: { period: string; graceHours?: number; subscribers: { id: string; serviceStart: string }[] }): Promise<number> {
      await signalCloses(input.period, input.graceHours, input.subscribers, (done) => heartbeat(done));
      return input.subscribers.length;
    },

    /**
     * Pages through the billable subscribers after `afterId` and asks each entity to close the
     * period, page by page, for up to `maxPages` pages or `maxSeconds`: the fan-out does not wait
     * for a workflow task between pages (those queue behind the entities' own tasks during a
     * close). Heartbeats carry the last subscriber asked, so a retry goes on from there.
     */
    async requestCycleClosesFrom(input: {
      period: string;
      graceHours?: number;
      afterId?: string;
      pageSize: number;
      maxPages: number;
      maxSeconds: number;
    }): Promise<{ cursor: string | undefined; requested: number; done: boolean }> {
      const resumed = Context.current().info.heartbeatDetails as { cursor?: string; requested: number } | undefined;
      let cursor = resumed?.cursor ?? input.afterId;
      let requested = resumed?.requested ?? 0;
      const deadline = Date.now() + input.maxSeconds * 1000;
      for (let page = 0; page < input.maxPages && Date.now() < deadline; page += 1) {
        const subscribers = await billableSubscriberIds(pool, input.period, cursor, input.pageSize);
        if (subscribers.length === 0) return { cursor, requested, done: true };
        await signalCloses(input.period, input.graceHours, subscribers, () => heartbeat({ cursor, requested }));
        cursor = subscribers[subscribers.length - 1]!.id;
        requested += subscribers.length;
        heartbeat({ cursor, requested });
        if (subscribers.length < input.pageSize) return { cursor, requested, done: true };
      }
      return { cursor, requested, done: false };
    },

    /** Queues the close's summary for billing operations, once per month; returns the email's key. */
    async queueCloseSummary(input: { period: string; summary: CloseProgressSnapshot }): Promise<string> {
      const key = `close-summary:${input.period}`;
      const { currency } = await policyInEffectOn(pool, `${input.period}-01`);
      await enqueueEmail(pool, {
        key,
        purpose: 'close-summary',
        subscriberId: null,
        to: billingOpsEmail,
        ...closeSummaryEmail({ period: input.period, currency, ...input.summary }),
      });
      return key;
    },

    async closeProgress(input: { period: string }): Promise<CloseProgressSnapshot> {
      return snapshot(input.period);
    },

    /**
     * Waits, heartbeating, until the close is complete (billing/month-close.ts closeComplete), or
     * until `maxWaitSeconds` pass; returns the latest numbers either way. Each call first asks the
     * billable subscribers nobody asked yet (added after the fan-out passed their id) to close
     * the period, with the close's grace period (the worker's when it has none).
     */
    async awaitCycleCloses(input: {
      period: string;
      maxWaitSeconds: number;
      pollSeconds: number;
      graceHours?: number;
    }): Promise<CloseProgressSnapshot & { complete: boolean; askedLate?: number }> {
      const missed = await subscribersNotAskedToClose(pool, input.period, MISSED_PER_POLL);
      await signalCloses(input.period, input.graceHours, missed, () => heartbeat());
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      for (;;) {
        const current = await snapshot(input.period);
        const complete = closeComplete(current);
        heartbeat(current);
        if (complete || Date.now() >= deadline) return { ...current, complete, askedLate: missed.length };
        await sleep(input.pollSeconds * 1000);
        if (Context.current().cancellationSignal.aborted) return { ...current, complete: false, askedLate: missed.length };
      }
    },

    /** The worker's close settings: the grace period a close without its own uses (a termination's). */
    async closeSettings(): Promise<{ graceHours: number }> {
      return { graceHours: closeGraceHours };
    },

    /**
     * A subscriber's close of a month met a fact it can never process: recorded once (an upsert),
     * so the month's close counts the subscriber as finished with this failure and lists it.
     */
    async recordCloseFailure(input: { subscriberId: string; period: string; reason: string }): Promise<void> {
      if (
        typeof input?.subscriberId !== 'string' ||
        input.subscriberId === '' ||
        typeof input.period !== 'string' ||
        !isValidPeriod(input.period) ||
        typeof input.reason !== 'string' ||
        input.reason.trim() === ''
      ) {
        throw ApplicationFailure.nonRetryable(`recordCloseFailure needs {"subscriberId", "period": "YYYY-MM", "reason"}, got ${JSON.stringify(input)}`, 'InvalidCloseFailure');
      }
      await recordCloseFailure(pool, input);
    },

    /**
     * Waits for the result of the close of `period` already running (a scheduled close that found
     * a manual one of the same month attaches to it), heartbeating, for up to `maxWaitSeconds`.
     */
    async awaitMonthCloseResult(input: { period: string; maxWaitSeconds: number }): Promise<{ done: true; summary: MonthCloseSummary } | { done: false }> {
      const workflowId = monthCloseWorkflowId(input.period);
      const stop = new AbortController();
      const beat = setInterval(() => heartbeat(), 5_000);
      Context.current().cancelled.catch(() => stop.abort());
      const waited = new Promise<{ done: false }>((resolve) => {
        const timer = setTimeout(() => resolve({ done: false }), input.maxWaitSeconds * 1000);
        stop.signal.addEventListener('abort', () => clearTimeout(timer));
      });
      try {
        // The latest run of the close, following its continue-as-new to the end.
        const finished = temporal
          .withAbortSignal(stop.signal, () => temporal.workflow.getHandle(workflowId).result() as Promise<MonthCloseSummary>)
          .then((summary) => ({ done: true as const, summary }));
        return await Promise.race([finished, waited]);
      } catch (error) {
        if (stop.signal.aborted) throw error;
        throw ApplicationFailure.nonRetryable(`${workflowId} ended without a result: ${error instanceof Error ? error.message : String(error)}`, 'MonthCloseFailed');
      } finally {
        clearInterval(beat);
        stop.abort();
      }
    },
  };
}
