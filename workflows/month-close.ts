/**
 * month-close-<YYYY-MM>: closes one calendar month for every subscriber (DESIGN, "Processes").
 * It pages through the billable subscribers, asks each one's entity to close the month, then
 * waits until every billable subscriber has an invoice (or a recorded failure) and every invoice's
 * email is sent (or refused for good). Rerunning it changes nothing already done.
 */
import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo, allHandlersFinished, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CloseProgressSnapshot } from '../activities/month-close';
import type { CloseFailure } from '../billing/month-close';
import { BillingPeriodKey, progressQuery, type MonthCloseProgress } from './messages';
import { DEFAULT_CLOSE_GRACE_HOURS } from './subscriber';

export interface MonthCloseInput {
  period: string;
  graceHours?: number;
  batchSize?: number;
  /** Carried across continue-as-new: the last subscriber id handed its close, and how many so far. */
  cursor?: string;
  requested?: number;
  /** Carried across continue-as-new: the fan-out is done and the run waits for the cycles. */
  waiting?: boolean;
  /** Carried across continue-as-new: the numbers last read, shown until the new run reads its own. */
  progress?: MonthCloseProgress;
  /** Polls of the waiting phase per run before it continues as new (tests set a few). */
  waitPollsPerRun?: number;
  /** How long one poll of the waiting phase waits, in seconds (tests set one). */
  waitSeconds?: number;
}

export interface MonthCloseSummary extends CloseProgressSnapshot {
  period: string;
  complete: boolean;
}

/**
 * Patch: the grace period is the worker's (BILLING_CLOSE_GRACE_HOURS) unless the close's input
 * names one; before it, the input's or 6 h.
 */
export const GRACE_FROM_WORKER_PATCH = 'close-grace-from-worker';
/**
 * Patch: the waiting phase continues as new (when the server suggests it, or after a number of
 * polls), so a close that waits for days stays under the history limit; the waiting activity
 * also asks subscribers nobody asked yet, and completion counts failures and refused mail.
 */
export const WAIT_CONTINUE_AS_NEW_PATCH = 'close-wait-continue-as-new';
/** About 2 h of polls at 30 s: some 1,500 events a run. */
const WAIT_POLLS_PER_RUN = 240;

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
  // Undefined since the patch: the fan-out's activities give the worker's configured grace.
  const graceHours = input.graceHours ?? (input.waiting || patched(GRACE_FROM_WORKER_PATCH) ? undefined : DEFAULT_CLOSE_GRACE_HOURS);
  let cursor = input.cursor;
  let requested = input.requested ?? 0;
  // A run continued in the waiting phase shows the last run's numbers until it reads its own.
  const progress: MonthCloseProgress =
    input.waiting && input.progress
      ? { ...input.progress, phase: 'waiting-for-cycles' }
      : { period: input.period, phase: input.waiting ? 'waiting-for-cycles' : 'requesting', subscribers: 0, requested, invoices: 0, emailed: 0 };
  let failures: CloseFailure[] = progress.failures ?? [];
  setHandler(progressQuery, () => ({ ...progress, requested, failures }));
  upsertSearchAttributes([{ key: BillingPeriodKey, value: input.period }]);
  const showProgress = (): void => {
    const failedPart = progress.failed ? `; ${progress.failed} failed: ${failures.map((f) => `${f.subscriberId} (${f.reason})`).join(', ')}` : '';
    const mailFailedPart = progress.mailFailed ? `, ${progress.mailFailed} refused by the mail server` : '';
    setCurrentDetails(
      `Close of **${input.period}**: ${progress.phase}. ${requested} subscribers asked to close; ${progress.invoices} of ${progress.subscribers} invoiced, ${progress.emailed} mailed${mailFailedPart}${failedPart}.`,
    );
  };
  const record = (snapshot: CloseProgressSnapshot): void => {
    progress.subscribers = snapshot.subscribers;
    progress.invoices = snapshot.invoices;
    progress.emailed = snapshot.emailed;
    // Absent from activity results recorded before the waiting-phase patch.
    if (snapshot.mailFailed !== undefined) progress.mailFailed = snapshot.mailFailed;
    if (snapshot.failed !== undefined) progress.failed = snapshot.failed;
    failures = snapshot.failures ?? [];
    showProgress();
  };
  showProgress();

  // Since the patch, one activity lists and signals page after page (up to a minute's worth)
  // instead of one workflow task per page: during a close those tasks wait behind the entities'.
  const pagesPerActivity = input.waiting || patched(FAN_OUT_PAGES_PATCH);
  for (;;) {
    if (input.waiting) break;
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
  const continuing = input.waiting || patched(WAIT_CONTINUE_AS_NEW_PATCH);
  for (let polls = 1; ; polls += 1) {
    // Returns every 30 s so the progress query and the UI's details stay current.
    const snapshot = await awaitCycleCloses({
      period: input.period,
      maxWaitSeconds: input.waitSeconds ?? 30,
      pollSeconds: Math.min(5, input.waitSeconds ?? 5),
      ...(continuing ? { graceHours } : {}),
    });
    record(snapshot);
    if (snapshot.complete) {
      // Billing operations get the numbers once, however often the close runs.
      await deliverEmail({ key: await queueCloseSummary({ period: input.period, summary: snapshot }) });
      progress.phase = 'done';
      showProgress();
      return { period: input.period, ...snapshot };
    }
    if (continuing && (polls >= (input.waitPollsPerRun ?? WAIT_POLLS_PER_RUN) || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof monthCloseWorkflow>({ ...input, cursor, requested, waiting: true, progress: { ...progress, requested, failures } });
    }
  }
}
