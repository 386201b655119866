/**
 * What the Schedule `billing-month-close` starts each month (DESIGN, "Processes"): it works out
 * the month that has just ended from the schedule's own fire time (so a backfill of a missed month
 * closes that month, not the current one) and runs `month-close-<YYYY-MM>` as a child, which a
 * rerun or a backfill finds done and leaves as it is. When a close of that month started by hand
 * is still running, it attaches to it and returns its result (issue 12, item 4).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { continueAsNew, executeChild, ParentClosePolicy, patched, proxyActivities, WorkflowIdReusePolicy, workflowInfo, log } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { periodOf, previousPeriod } from '../billing/periods';
import { monthCloseWorkflowId } from './messages';
import { monthCloseWorkflow, type MonthCloseSummary } from './month-close';

/** Set by the server on every workflow a Schedule starts: the time it was due. */
const ScheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ScheduledCloseInput {
  /** The zone the schedule fires in: the month closed is the one before the fire time there. */
  timezone: string;
  graceHours?: number;
  batchSize?: number;
  /** Set when it continues as new while attached to a close started by hand: that close's month. */
  attachedPeriod?: string;
  /**
   * For the month close: how long one poll of its waiting phase waits, in seconds (default 30).
   * The Schedule gives none; the time-travel demo gives 1, since time skipping stops while a poll waits.
   */
  waitSeconds?: number;
}

/** Patch: a close of the month already running (started by hand) is attached to, not a failure. */
export const ATTACH_TO_RUNNING_CLOSE_PATCH = 'scheduled-close-attach';

const { awaitMonthCloseResult } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/** Waits for the close of `period` that is already running, through the Temporal client. */
async function attachTo(input: ScheduledCloseInput, period: string): Promise<MonthCloseSummary> {
  for (;;) {
    const outcome = await awaitMonthCloseResult({ period, maxWaitSeconds: 600 });
    if (outcome.done) return outcome.summary;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof scheduledMonthCloseWorkflow>({ ...input, attachedPeriod: period });
  }
}

export async function scheduledMonthCloseWorkflow(input: ScheduledCloseInput): Promise<MonthCloseSummary> {
  if (input.attachedPeriod) return attachTo(input, input.attachedPeriod);
  const due = workflowInfo().typedSearchAttributes.get(ScheduledStartTimeKey) ?? new Date(workflowInfo().runStartTime);
  const period = previousPeriod(periodOf(due.getTime(), input.timezone));
  log.info('closing the month before the schedule fired', { due: due.toISOString(), period });
  try {
    return await executeChild(monthCloseWorkflow, {
      workflowId: monthCloseWorkflowId(period),
      // waitSeconds absent (the Schedule's) adds nothing to the child's input: histories replay as before.
      args: [{ period, graceHours: input.graceHours, batchSize: input.batchSize, ...(input.waitSeconds === undefined ? {} : { waitSeconds: input.waitSeconds }) }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      // A close in progress outlives a terminated trigger.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Close of ${period}, scheduled for ${due.toISOString()}`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !patched(ATTACH_TO_RUNNING_CLOSE_PATCH)) throw error;
    log.info('a close of the month is already running (started by hand): waiting for its result', { period });
    return attachTo(input, period);
  }
}
