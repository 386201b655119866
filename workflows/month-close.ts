/**
 * month-close-<YYYY-MM>: closes one calendar month for every subscriber (DESIGN, "Processes").
 * It pages through the billable subscribers, asks each one's entity to close the month, then
 * waits until every invoice is written and mailed. Rerunning it changes nothing already done.
 */
import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo, allHandlersFinished, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CloseProgressSnapshot } from '../activities/month-close';
import { BillingPeriodKey, progressQuery, type MonthCloseProgress } from './messages';
import { DEFAULT_CLOSE_GRACE_HOURS } from './subscriber';

export interface MonthCloseInput {
  period: string;
  graceHours?: number;
  batchSize?: number;
  /** Carried across continue-as-new: the last subscriber id handed its close, and how many so far. */
  cursor?: string;
  requested?: number;
}

export interface MonthCloseSummary extends CloseProgressSnapshot {
  period: string;
  complete: boolean;
}

/** Patch: the fan-out signals several pages per activity (requestCycleClosesFrom). */
export const FAN_OUT_PAGES_PATCH = 'close-fan-out-pages';
const MAX_PAGES_PER_ACTIVITY = 20;

const { listBillableSubscribers, requestCycleCloses, requestCycleClosesFrom, closeProgress, queueCloseSummary } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const { deliverEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

const { awaitCycleCloses } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  // It heartbeats every poll: a lost worker is noticed within seconds.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

export async function monthCloseWorkflow(input: MonthCloseInput): Promise<MonthCloseSummary> {
  const batchSize = input.batchSize ?? 500;
  const graceHours = input.graceHours ?? DEFAULT_CLOSE_GRACE_HOURS;
  let cursor = input.cursor;
  let requested = input.requested ?? 0;
  const progress: MonthCloseProgress = { period: input.period, phase: 'requesting', subscribers: 0, requested, invoices: 0, emailed: 0 };
  setHandler(progressQuery, () => ({ ...progress, requested }));
  upsertSearchAttributes([{ key: BillingPeriodKey, value: input.period }]);
  const showProgress = (): void => {
    setCurrentDetails(`Close of **${input.period}**: ${progress.phase}. ${requested} subscribers asked to close; ${progress.invoices} of ${progress.subscribers} invoiced, ${progress.emailed} mailed.`);
  };
  const record = (snapshot: CloseProgressSnapshot): void => {
    progress.subscribers = snapshot.subscribers;
    progress.invoices = snapshot.invoices;
    progress.emailed = snapshot.emailed;
    showProgress();
  };
  showProgress();

  // Since the patch, one activity lists and signals page after page (up to a minute's worth)
  // instead of one workflow task per page: during a close those tasks wait behind the entities'.
  const pagesPerActivity = patched(FAN_OUT_PAGES_PATCH);
  for (;;) {
    if (pagesPerActivity) {
      const step = await requestCycleClosesFrom({ period: input.period, graceHours, afterId: cursor, pageSize: batchSize, maxPages: MAX_PAGES_PER_ACTIVITY, maxSeconds: 60 });
      requested += step.requested;
      cursor = step.cursor;
      showProgress();
      if (step.done) break;
    } else {
      const page = await listBillableSubscribers({ period: input.period, afterId: cursor, limit: batchSize });
      if (page.length === 0) break;
      requested += await requestCycleCloses({ period: input.period, graceHours, subscribers: page });
      cursor = page[page.length - 1]!.id;
      showProgress();
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof monthCloseWorkflow>({ ...input, cursor, requested });
    }
  }

  progress.phase = 'waiting-for-cycles';
  record(await closeProgress({ period: input.period }));
  for (;;) {
    // Returns every 30 s so the progress query and the UI's details stay current.
    const snapshot = await awaitCycleCloses({ period: input.period, maxWaitSeconds: 30, pollSeconds: 5 });
    record(snapshot);
    if (snapshot.complete) {
      // Billing operations get the numbers once, however often the close runs.
      await deliverEmail({ key: await queueCloseSummary({ period: input.period, summary: snapshot }) });
      progress.phase = 'done';
      showProgress();
      return { period: input.period, ...snapshot };
    }
  }
}
