/**
 * What the Schedule `billing-month-close` starts each month (DESIGN, "Processes"): it works out
 * the month that has just ended from the schedule's own fire time (so a backfill of a missed month
 * closes that month, not the current one) and runs `month-close-<YYYY-MM>` as a child, which a
 * rerun or a backfill finds done and leaves as it is.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { executeChild, ParentClosePolicy, WorkflowIdReusePolicy, workflowInfo, log } from '@temporalio/workflow';
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
}

export async function scheduledMonthCloseWorkflow(input: ScheduledCloseInput): Promise<MonthCloseSummary> {
  const due = workflowInfo().typedSearchAttributes.get(ScheduledStartTimeKey) ?? new Date(workflowInfo().runStartTime);
  const period = previousPeriod(periodOf(due.getTime(), input.timezone));
  log.info('closing the month before the schedule fired', { due: due.toISOString(), period });
  return executeChild(monthCloseWorkflow, {
    workflowId: monthCloseWorkflowId(period),
    args: [{ period, graceHours: input.graceHours, batchSize: input.batchSize }],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    // A close in progress outlives a terminated trigger.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `Close of ${period}, scheduled for ${due.toISOString()}`,
  });
}
