import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Command } from 'commander';
import type { Pool } from 'pg';
import { formatCents } from '../../billing/money';
import { periodBounds } from '../../billing/periods';
import { closePeriodProblem, PeriodSchema } from '../../billing/validation';
import { firstPolicyDay, policyInEffectOn } from '../../db/policies';
import { formatMinutes } from '../../billing/emails';
import { closeProgressSnapshot } from '../../db/month-close';
import { invoiceMailTrouble } from '../../db/outbox';
import { monthCloseWorkflowId } from '../../workflows/messages';
import type { monthCloseWorkflow, MonthCloseSummary } from '../../workflows/month-close';
import { InputError, type RunCommand } from '../context';
import { plural, printJson, printLines } from '../output';
import { progressBar } from '../progress';
import { flag } from '../validate';

/**
 * The close's result, with a bar of invoices written, mailed and refused meanwhile (on a terminal). The
 * numbers come from PostgreSQL, not from the close's `progress` query: during a large close the
 * workflow's tasks queue behind the entities' and a query can wait for minutes.
 */
async function resultWithProgress(result: Promise<MonthCloseSummary>, pool: Pool, period: string): Promise<MonthCloseSummary> {
  const bar = progressBar<{ emailed: number; mailFailed: number; failed: number }>(
    `closing ${period} [{bar}] {value}/{total} invoiced, {emailed} mailed, {mailFailed} mail failed, {failed} failed | ETA {eta_formatted}`,
  );
  if (!bar.enabled) return result;
  let finished = false;
  const settled = result.finally(() => {
    finished = true;
  });
  const polling = (async () => {
    for (;;) {
      const now = await closeProgressSnapshot(pool, period).catch(() => undefined);
      if (now)
        bar.update(now.invoices + now.failed, Math.max(now.subscribers, now.invoices + now.failed), { emailed: now.emailed, mailFailed: now.mailFailed, failed: now.failed });
      await Promise.race([settled.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000))]);
      if (finished) return;
    }
  })();
  try {
    return await settled;
  } finally {
    await polling;
    bar.stop();
  }
}

export function registerCloseCommand(program: Command, run: RunCommand): void {
  program
    .command('close')
    .description('close a month for every subscriber: rate, invoice and mail')
    .requiredOption('--period <YYYY-MM>', 'the month to close')
    .option('--wait', 'wait until every invoice is written and mailed (a progress bar on a terminal), then print a summary')
    .option('--json', 'print the summary as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const period = flag(PeriodSchema, opts.period, '--period');
        const problem = closePeriodProblem(period, { nowMs: Date.now(), firstPolicyDay: await firstPolicyDay(await ctx.pool()), graceHours: ctx.config.closeGraceHours });
        if (problem) throw new InputError(problem);
        // A month ends last at UTC-12 (Etc/GMT+12).
        const endsEverywhereMs = periodBounds(period, 'Etc/GMT+12').endMs;
        const client = await ctx.temporal();
        const workflowId = monthCloseWorkflowId(period);
        const handle = await client.workflow.start<typeof monthCloseWorkflow>('monthCloseWorkflow', {
          workflowId,
          taskQueue: ctx.config.taskQueue,
          // No grace period: the worker's configured one applies, as to a termination's close.
          args: [{ period, batchSize: ctx.config.closeBatchSize }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          staticSummary: `Close of ${period} for every subscriber`,
        });
        if (!opts.wait) {
          if (opts.json) return printJson({ workflowId, runId: handle.firstExecutionRunId, period });
          const late =
            endsEverywhereMs + ctx.config.closeGraceHours * 3_600_000 > Date.now() ? ' (subscribers whose month is not over yet, plus the grace period, are closed later)' : '';
          return printLines([`started ${workflowId}${late}; follow it with \`billing close --period ${period} --wait\` or in the Temporal UI`]);
        }
        const summary = await resultWithProgress(handle.result(), await ctx.pool(), period);
        if (opts.json) return printJson(summary);
        const { currency } = await policyInEffectOn(await ctx.pool(), `${period}-01`);
        printLines([
          `closed ${period}: ${plural(summary.invoices, 'invoice')} for ${plural(summary.subscribers, 'subscriber')}, ${summary.emailed} mailed, ${summary.mailFailed} mail failed`,
          ...(summary.failed > 0
            ? [
                `  failed:  ${plural(summary.failed, 'subscriber')} without an invoice`,
                ...summary.failures.map((f) => `    ${f.subscriberId}: ${f.reason}`),
                ...(summary.failed > summary.failures.length ? [`    and ${summary.failed - summary.failures.length} more`] : []),
              ]
            : []),
          `  calls:   ${summary.calls}`,
          `  usage:   ${formatMinutes(summary.usedSeconds)}`,
          `  overage: ${summary.overageMinutes} min`,
          `  total:   ${formatCents(summary.totalCents)} ${currency}`,
        ]);
        // Invoice mail that needs a look (README, "What the outbox guarantees"); `billing status` names each.
        const mail = await invoiceMailTrouble(await ctx.pool(), period);
        if (mail.failed > 0 || mail.unknownOutcomes > 0) {
          printLines([`  mail:    ${mail.failed} refused for good, ${plural(mail.unknownOutcomes, 'attempt')} of unknown outcome (possibly delivered twice, same Message-ID)`]);
        }
      }),
    );
}
