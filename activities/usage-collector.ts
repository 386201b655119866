/**
 * The I/O of a collector, `usage-collector-<source>` (workflows/usage-collector.ts): it reads the
 * source (its DSN in clear, from PostgreSQL: the workflow has only the source's name), collects
 * what is new through the importer, hands each import's usage alerts to `usage-import-<id>`, and
 * keeps the source's health, alerting ops once per incident through the outbox.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { message } from '../billing/plain-email';
import { defaultCountryFromEnv } from '../config';
import { enqueueEmail } from '../db/outbox';
import { anyAlertableMonth } from '../db/usage-alerts';
import { collectAsteriskDb, collectSpool, type CollectLimits, type CollectOutcome } from '../db/usage-collect';
import type { ImportSummary } from '../db/usage-import';
import { lagSeconds, recordRunFailed, recordRunSucceeded, sourceIncident, sourceWithDsn } from '../db/usage-sources';
import { OPERATION_REFUSED, usageImportWorkflowId, type CollectorHealth, type CollectorRun } from '../workflows/messages';

export function createUsageCollectorActivities(pool: Pool, temporal: Client, taskQueue: string, billingOpsEmail: string, limits: CollectLimits = {}, rejectsDir?: string) {
  /** An import's usage alerts, handed to its `usage-import-<id>` as `billing usage import` does. */
  const followUp = async (summary: ImportSummary): Promise<void> => {
    if (!(await anyAlertableMonth(pool, summary.touched))) return;
    await temporal.workflow.start('usageImportFollowUpWorkflow', {
      workflowId: usageImportWorkflowId(summary.importId),
      taskQueue,
      args: [{ importId: summary.importId }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `Usage alerts of import ${summary.importId}`,
    });
  };

  return {
    /**
     * Collects what is new in the source since its watermark, for up to a few minutes; `more` when
     * there is more. Paused or removed: nothing is read. A switch that cannot be reached fails the
     * attempt (retried by the workflow's policy); the workflow records it.
     */
    async collectSourceUsage(input: { source: string }): Promise<CollectorRun> {
      const source = await sourceWithDsn(pool, input.source);
      if (!source)
        throw ApplicationFailure.nonRetryable(`source ${input.source} does not exist (removed?); its schedule is removed with \`billing sources remove\``, OPERATION_REFUSED);
      if (source.paused) return { ...toRun(undefined), paused: true };
      const ctx = {
        pool,
        defaultCountry: source.country ?? defaultCountryFromEnv(),
        onImported: followUp,
        heartbeat,
        rejectsDir,
      };
      const outcome = source.kind === 'asterisk-db' ? await collectAsteriskDb(source, ctx, limits) : await collectSpool(source, ctx, limits);
      if (!outcome.more) await recordRunSucceeded(pool, source.name, outcome.caughtUpAt);
      return toRun(outcome);
    },

    /** Records a run that failed (every attempt): the source's failures in a row and its last error. */
    async recordCollectorFailure(input: { source: string; error: string }): Promise<void> {
      await recordRunFailed(pool, input.source, input.error);
    },

    /**
     * The source's health for the collector's details and search attributes, alerting ops once
     * when it is behind by more than its max lag or keeps failing; returns the alert's outbox key
     * while the incident lasts (delivering it again is a no-op once sent).
     */
    async collectorHealth(input: { source: string }): Promise<CollectorHealth> {
      const nowMs = Date.now();
      const { key, source } = await sourceIncident(pool, input.source, nowMs, async (client, alertKey, s, why) => {
        await enqueueEmail(client, {
          key: alertKey,
          purpose: 'usage-source-alert',
          subscriberId: null,
          to: billingOpsEmail,
          ...message(`Usage source ${s.name} needs attention`, [
            `The collector of usage source ${s.name} (${s.kind}) needs attention: ${why}.`,
            `Calls it has not collected are not counted yet. Run \`billing sources show ${s.name}\` for its state, and ` +
              'fix the switch database, its network or the spool folder; the collector picks up where it left off.',
          ]),
        });
      });
      if (!source) return { exists: false, alertKey: null, lagSeconds: 0, lastRecordAt: null, rowsCollected: 0, rowsRejected: 0, consecutiveFailures: 0, paused: false };
      return {
        exists: true,
        alertKey: key,
        lagSeconds: lagSeconds(source, nowMs),
        lastRecordAt: source.lastRecordAt?.toISOString() ?? null,
        rowsCollected: source.rowsCollected,
        rowsRejected: source.rowsRejected,
        consecutiveFailures: source.consecutiveFailures,
        paused: source.paused,
      };
    },
  };
}

function toRun(outcome: CollectOutcome | undefined): CollectorRun {
  return {
    paused: false,
    rows: outcome?.rows ?? 0,
    rejected: outcome?.rejected ?? 0,
    duplicates: outcome?.duplicates ?? 0,
    imports: outcome?.imports ?? [],
    filesDone: outcome?.filesDone ?? 0,
    filesFailed: outcome?.filesFailed ?? 0,
    failedFiles: outcome?.failedFiles ?? [],
    more: outcome?.more ?? false,
  };
}
