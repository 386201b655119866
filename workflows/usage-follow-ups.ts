/**
 * What follows an import of call records, and `billing usage rematch`, as durable operations
 * (DESIGN, "Processes"): the first activity writes (the usage alerts into the outbox; for a
 * rematch, the records it attributes and then their alerts), the second hands the alerts to a
 * `usage-alerts-<origin>` delivery, which sends each once and waits out an SMTP outage. A worker
 * that dies half way leaves the rest to the next one: no alert is lost, none is sent twice.
 *
 * usage-import-<id>: the file itself is imported by the CLI, on the machine that has it
 * (db/usage-import.ts); once the import has committed, this queues the alerts of the months its
 * calls touched (kept with the import) and hands them to `usage-alerts-import-<id>`.
 *
 * usage-rematch-<time>: attributes the records that matched nobody to the numbers and subscribers
 * registered since, queues their alerts, and hands them to `usage-alerts-rematch-<time>`.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { db } from './activity-proxies';
import { OPERATION_REFUSED, type RematchResult, type UsageAlertsHandedOver } from './messages';

/**
 * Database work that grows with the import (a usage alert measured per subscriber month touched,
 * a rematch paging through every unmatched record): up to an hour, heartbeating as it goes, so a
 * worker that dies is noticed within a minute.
 */
const measured = (summary: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    summary,
  });

/** `usage-alerts-` and the operation's own id without its `usage-` (`import-<id>`, `rematch-<time>`). */
async function handOver(keys: string[]): Promise<string | null> {
  if (keys.length === 0) return null;
  const origin = workflowInfo().workflowId.replace(/^usage-/, '');
  return db(`Hand ${keys.length} usage alerts to their delivery`).handOverUsageAlerts({ origin, keys });
}

/**
 * Patch: the alerts are measured as of the workflow's time, given to the activity, not the
 * worker's clock: which month is still open, or has ended and awaits its close, is the workflow's
 * answer, recorded, and under time skipping (`billing demo --months`) the simulated one.
 */
export const ALERTS_AT_WORKFLOW_TIME_PATCH = 'usage-alerts-at-workflow-time';

export async function usageImportFollowUpWorkflow(input: { importId: number }): Promise<UsageAlertsHandedOver> {
  let keys: string[];
  try {
    const asOf = patched(ALERTS_AT_WORKFLOW_TIME_PATCH) ? { ...input, nowMs: Date.now() } : input;
    keys = await measured(`Queue the usage alerts of import ${input.importId}`).queueImportAlerts(asOf);
  } catch (error) {
    // An import that does not exist or did not finish: nothing to alert, said once.
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === OPERATION_REFUSED) {
      throw ApplicationFailure.nonRetryable(error.cause.message, OPERATION_REFUSED);
    }
    throw error;
  }
  return { alertEmails: keys.length, alertsWorkflowId: await handOver(keys) };
}

export async function usageRematchWorkflow(): Promise<RematchResult> {
  const { alertKeys, ...rematched } = await measured('Attribute unmatched call records and queue their usage alerts').rematchAndQueueAlerts();
  return { ...rematched, alertEmails: alertKeys.length, alertsWorkflowId: await handOver(alertKeys) };
}
