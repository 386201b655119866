/**
 * The I/O of an import's follow-up (`usage-import-<id>`) and of `usage-rematch-<time>`
 * (workflows/usage-follow-ups.ts): the usage alerts queued in the outbox, then handed to a
 * `usage-alerts-<origin>` delivery.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { rematchUnmatched, type RematchPage } from '../db/rematch';
import { queueUsageAlerts } from '../db/usage-alerts';
import { monthsTouchedByImport } from '../db/usage-import';
import { OPERATION_REFUSED, usageAlertsWorkflowId } from '../workflows/messages';
import { operationKey } from './onboarding';

export interface RematchQueued {
  examined: number;
  attributed: number;
  stillUnmatched: number;
  /** Subscriber months (as `billing usage import` counts them). */
  subscribersTouched: number;
  alertKeys: string[];
}

export function createUsageFollowUpActivities(pool: Pool, temporal: Client, taskQueue: string) {
  return {
    /**
     * Queues the usage alerts the calls of a finished import made due (the months it touched are
     * kept with it); returns the keys not sent yet. Idempotent: each alert is one outbox row.
     * `nowMs`: the workflow's time, which says which months are open or ended (the clock's for
     * runs started before the workflow gave it).
     */
    async queueImportAlerts(input: { importId: number; nowMs?: number }): Promise<string[]> {
      const touched = await monthsTouchedByImport(pool, input.importId);
      if (touched === undefined)
        throw ApplicationFailure.nonRetryable(`import ${input.importId} does not exist; the summary of \`billing usage import\` names its import`, OPERATION_REFUSED);
      if (touched === 'unfinished')
        throw ApplicationFailure.nonRetryable(
          `import ${input.importId} stopped before the end of its file; import the file again (its rows already in count once) and that import hands its alerts over`,
          OPERATION_REFUSED,
        );
      return queueUsageAlerts(pool, touched, input.nowMs ?? Date.now(), heartbeat);
    },

    /**
     * Attributes the records that matched nobody and now match someone, and queues the usage
     * alerts that made due. Each page of claims is recorded with them, in their transaction, under
     * this run's key: a retry after a crash half way claims only the rest, and still alerts the
     * months of every page.
     */
    async rematchAndQueueAlerts(): Promise<RematchQueued> {
      const key = `${operationKey()}/page/`;
      const summary = await rematchUnmatched(pool, {
        onPage: async (client, page) => {
          heartbeat();
          if (page.attributed > 0) await client.query('INSERT INTO operation_writes (key, result) VALUES ($1, $2)', [key + randomUUID(), JSON.stringify(page)]);
        },
      });
      const { rows } = await pool.query('SELECT result FROM operation_writes WHERE starts_with(key, $1)', [key]);
      const pages = rows.map((r) => r.result as RematchPage);
      const touched = new Map(pages.flatMap((p) => p.touched).map((t) => [`${t.subscriberId}\u0000${t.period}`, t]));
      return {
        examined: summary.examined,
        attributed: pages.reduce((sum, p) => sum + p.attributed, 0),
        stillUnmatched: summary.stillUnmatched,
        subscribersTouched: touched.size,
        alertKeys: await queueUsageAlerts(pool, [...touched.values()], Date.now(), heartbeat),
      };
    },

    /** Hands queued usage alerts to `usage-alerts-<origin>`; one already running (a retry) is kept. */
    async handOverUsageAlerts(input: { origin: string; keys: string[] }): Promise<string> {
      const workflowId = usageAlertsWorkflowId(input.origin);
      await temporal.workflow.start('deliverEmailsWorkflow', {
        workflowId,
        taskQueue,
        args: [{ keys: input.keys }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Usage alerts: ${input.keys.length} ${input.keys.length === 1 ? 'email' : 'emails'}`,
      });
      return workflowId;
    },
  };
}
