/**
 * A source's collector, `usage-collector-<source>` (issue 14), started by the Schedule of the same
 * name every few minutes (client/schedule.ts; paused, resumed and deleted with the source). Each
 * run collects what is new since the source's watermark through the importer (an activity that
 * reads the source's settings, its DSN included, from PostgreSQL: this workflow only ever has the
 * source's name), then shows the source's health in its details and search attributes and alerts
 * ops once when the source is behind or keeps failing. Exactly once: every record has its key,
 * and the watermark (or a spool file's move to done/) follows its import's commit.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { db, mail } from './activity-proxies';
import {
  CollectorLagSecondsKey,
  LastRecordTimeKey,
  OPERATION_REFUSED,
  RowsCollectedKey,
  RowsRejectedKey,
  UsageSourceKey,
  type CollectorHealth,
  type CollectorRun,
  type CollectorSummary,
} from './messages';

/**
 * A few minutes of collecting at most per attempt, heartbeating each page or file: a worker killed
 * mid-page is noticed within 30 seconds and the next attempt reads from the last committed page.
 * A switch that cannot be reached fails three attempts within seconds (1 s, then 2 s apart), then
 * the run, which is recorded: the Schedule's next run (minutes later) is the real retry, so waiting
 * longer inside a run would only hold its slot.
 */
const collecting = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: [OPERATION_REFUSED] },
  summary: 'Collect new call records',
});

/** Rounds of collecting in one run before it leaves the rest to the next. */
const MAX_ROUNDS = 20;

function detailsOf(source: string, summary: Omit<CollectorSummary, 'health'>, health: CollectorHealth): string {
  const lines = [
    `**Usage source ${source}**${health.paused ? ' (paused)' : ''}`,
    `- last record: ${health.lastRecordAt ?? 'none yet'}`,
    `- lag: ${Math.round(health.lagSeconds / 60)} min`,
    `- rows collected: ${health.rowsCollected} (this run ${summary.rows}, ${summary.duplicates} already in)`,
    `- rows rejected: ${health.rowsRejected} (this run ${summary.rejected})`,
  ];
  if (summary.filesDone + summary.filesFailed > 0) lines.push(`- files: ${summary.filesDone} done, ${summary.filesFailed} failed this run`);
  if (summary.failed) lines.push(`- this run failed: ${summary.failed}`);
  if (health.alertKey) lines.push(`- ops alerted (${health.alertKey})`);
  return lines.join('\n');
}

export async function usageCollectorWorkflow(input: { source: string }): Promise<CollectorSummary> {
  upsertSearchAttributes([{ key: UsageSourceKey, value: input.source }]);
  const summary: Omit<CollectorSummary, 'health'> = {
    source: input.source,
    rows: 0,
    rejected: 0,
    duplicates: 0,
    imports: [],
    filesDone: 0,
    filesFailed: 0,
    failedFiles: [],
    failed: null,
  };
  setCurrentDetails(`**Usage source ${input.source}**: collecting`);
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    let run: CollectorRun;
    try {
      run = await collecting.collectSourceUsage({ source: input.source });
    } catch (error) {
      if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === OPERATION_REFUSED) {
        throw ApplicationFailure.nonRetryable(error.cause.message, OPERATION_REFUSED);
      }
      summary.failed = (error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message) || 'the collection failed';
      await db(`Record the failure of source ${input.source}`).recordCollectorFailure({ source: input.source, error: summary.failed });
      break;
    }
    summary.rows += run.rows;
    summary.rejected += run.rejected;
    summary.duplicates += run.duplicates;
    summary.imports.push(...run.imports);
    summary.filesDone += run.filesDone;
    summary.filesFailed += run.filesFailed;
    summary.failedFiles.push(...run.failedFiles);
    setCurrentDetails(`**Usage source ${input.source}**: ${summary.rows} rows collected so far in this run`);
    if (!run.more || run.paused) break;
  }
  const health = await db(`Health of source ${input.source}`).collectorHealth({ source: input.source });
  upsertSearchAttributes([
    { key: CollectorLagSecondsKey, value: health.lagSeconds },
    { key: RowsCollectedKey, value: health.rowsCollected },
    { key: RowsRejectedKey, value: health.rowsRejected },
  ]);
  if (health.lastRecordAt) upsertSearchAttributes([{ key: LastRecordTimeKey, value: new Date(health.lastRecordAt) }]);
  setCurrentDetails(detailsOf(input.source, summary, health));
  if (health.alertKey) await mail(`Alert ops about source ${input.source}`).deliverEmail({ key: health.alertKey });
  return { ...summary, health };
}
