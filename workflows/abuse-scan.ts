/**
 * The daily abuse scan (issue 7): every subscriber's day through the detectors, in bounded batches,
 * continuing as new as it goes like the month close, so one run scans any number of subscribers.
 * Started each day by the Schedule `billing-abuse-scan` (it scans the day before its fire time in
 * the schedule's zone) or by hand as `abuse-scan-<day>`. A rerun of a day opens nothing twice:
 * findings are keyed by subscriber, detector and day.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { dayOf, shiftDay } from '../billing/abuse';
import type { Activities } from '../activities';
import { abuseScanProgressQuery, type AbuseScanProgress } from './messages';

/** Set by the server on every workflow a Schedule starts: the time it was due. */
const ScheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface AbuseScanInput {
  /** The day to scan, YYYY-MM-DD; when absent (a Schedule's run), the day before the fire time in `timezone`. */
  day?: string;
  timezone?: string;
  batchSize?: number;
  /** BILLING_ABUSE_REMINDER_HOURS, handed to the cases it opens. */
  reminderHours: number;
  /** Carried across continue-as-new. */
  cursor?: string;
  scanned?: number;
  findings?: number;
  cases?: string[];
}

const { scanForAbuse } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary: 'Scan a batch of subscribers',
});

export async function abuseScanWorkflow(input: AbuseScanInput): Promise<AbuseScanProgress> {
  const due = workflowInfo().typedSearchAttributes.get(ScheduledStartTimeKey) ?? new Date(workflowInfo().runStartTime);
  const day = input.day ?? shiftDay(dayOf(due.getTime(), input.timezone ?? 'UTC'), -1);
  const batchSize = input.batchSize ?? 200;
  const progress: AbuseScanProgress = { day, scanned: input.scanned ?? 0, findings: input.findings ?? 0, cases: [...(input.cases ?? [])], done: false };
  let cursor = input.cursor;
  setHandler(abuseScanProgressQuery, () => progress);
  const show = (): void =>
    setCurrentDetails(
      `Abuse scan of **${day}**: ${progress.scanned} subscribers scanned, ${progress.findings} findings, cases ${progress.cases.join(', ') || 'none'}${progress.done ? '. Done.' : '.'}`,
    );
  show();

  for (;;) {
    const batch = await scanForAbuse({ day, afterId: cursor, limit: batchSize, reminderHours: input.reminderHours });
    progress.scanned += batch.scanned;
    progress.findings += batch.findings;
    for (const c of batch.cases) if (!progress.cases.includes(c)) progress.cases.push(c);
    show();
    if (batch.lastId === null || batch.scanned < batchSize) break;
    cursor = batch.lastId;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof abuseScanWorkflow>({ ...input, day, cursor, scanned: progress.scanned, findings: progress.findings, cases: progress.cases });
    }
  }
  progress.done = true;
  show();
  return progress;
}
