/** The I/O of a month close: page through subscribers, hand each entity its close, watch progress. */
import { Context, heartbeat, sleep } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { closeSummaryEmail } from '../billing/emails';
import { closeProgressSnapshot, type CloseProgressSnapshot } from '../db/invoices';
import { enqueueEmail } from '../db/outbox';
import { policyInEffectOn } from '../db/policies';
import { billableSubscriberIds } from '../db/subscribers';
import { closeCycleSignal, subscriberWorkflowId } from '../workflows/messages';

export type { CloseProgressSnapshot };

/** Close requests in flight at once from one activity. */
const SIGNAL_CONCURRENCY = 16;

export function createMonthCloseActivities(pool: Pool, temporal: Client, taskQueue: string, billingOpsEmail: string) {
  const snapshot = (period: string): Promise<CloseProgressSnapshot> => closeProgressSnapshot(pool, period);

  /** signalWithStart to each entity, 16 at a time; `progress` after each. */
  async function signalCloses(period: string, graceHours: number, subscribers: { id: string; serviceStart: string }[], progress: (done: number) => void): Promise<void> {
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
          signalArgs: [{ period, graceHours }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
        done += 1;
        progress(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SIGNAL_CONCURRENCY, subscribers.length) }, signaller));
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
    async requestCycleCloses(input: { period: string; graceHours: number; subscribers: { id: string; serviceStart: string }[] }): Promise<number> {
      await signalCloses(input.period, input.graceHours, input.subscribers, (done) => heartbeat(done));
      return input.subscribers.length;
    },

    /**
     * Pages through the billable subscribers after `afterId` and asks each entity to close the
     * period, page by page, for up to `maxPages` pages or `maxSeconds`: the fan-out does not wait
     * for a workflow task between pages (those queue behind the entities' own tasks during a
     * close). Heartbeats carry the last subscriber asked, so a retry goes on from there.
     */
    async requestCycleClosesFrom(input: { period: string; graceHours: number; afterId?: string; pageSize: number; maxPages: number; maxSeconds: number }): Promise<{ cursor: string | undefined; requested: number; done: boolean }> {
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
      await enqueueEmail(pool, { key, purpose: 'close-summary', subscriberId: null, to: billingOpsEmail, ...closeSummaryEmail({ period: input.period, currency, ...input.summary }) });
      return key;
    },

    async closeProgress(input: { period: string }): Promise<CloseProgressSnapshot> {
      return snapshot(input.period);
    },

    /**
     * Waits, heartbeating, until every billable subscriber of the period has an invoice whose email
     * went out, or until `maxWaitSeconds` pass; returns the latest numbers either way.
     */
    async awaitCycleCloses(input: { period: string; maxWaitSeconds: number; pollSeconds: number }): Promise<CloseProgressSnapshot & { complete: boolean }> {
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      for (;;) {
        const current = await snapshot(input.period);
        const complete = current.emailed >= current.subscribers;
        heartbeat(current);
        if (complete || Date.now() >= deadline) return { ...current, complete };
        await sleep(input.pollSeconds * 1000);
        if (Context.current().cancellationSignal.aborted) return { ...current, complete: false };
      }
    },
  };
}
