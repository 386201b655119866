import type { Command } from 'commander';
import { formatCents } from '../../billing/money';
import { IdSchema } from '../../billing/validation';
import { flaggedCallCount, listAbuseCases } from '../../db/abuse';
import { listInvoices } from '../../db/invoices';
import { getSubscriber } from '../../db/subscribers';
import { statusQuery, subscriberWorkflowId, type SubscriberStatus } from '../../workflows/messages';
import { InputError, type RunCommand } from '../context';
import { printJson, printLines } from '../output';
import { flag } from '../validate';

export function registerStatusCommand(program: Command, run: RunCommand): void {
  program
    .command('status <subscriber>')
    .description("a subscriber's account and where their billing cycle stands")
    .option('--json', 'print as JSON')
    .action((subscriberId: string, opts) => run(async (ctx) => {
      const pool = await ctx.pool();
      const subscriber = await getSubscriber(pool, flag(IdSchema, subscriberId, 'SUBSCRIBER'));
      if (!subscriber) throw new InputError(`subscriber "${subscriberId}" does not exist; see \`billing subscribers list\``);
      let cycle: SubscriberStatus | null = null;
      let cycleProblem: string | null = null;
      try {
        cycle = await (await ctx.temporal()).workflow.getHandle(subscriberWorkflowId(subscriber.id)).query(statusQuery);
      } catch (error) {
        cycleProblem = (error as Error).message;
      }
      const [invoices, cases, flaggedCalls] = await Promise.all([
        listInvoices(pool, { subscriberId: subscriber.id }), listAbuseCases(pool, { subscriberId: subscriber.id }), flaggedCallCount(pool, subscriber.id),
      ]);
      if (opts.json) return printJson({ subscriber, cycle, cycleProblem, invoices, abuseCases: cases, flaggedCalls });
      printLines([
        `${subscriber.id} (${subscriber.name ?? 'no name'}, ${subscriber.email}${subscriber.business ? ', business account' : ''}): ${subscriber.status}, ${subscriber.timezone}, since ${subscriber.serviceStart}`,
        cycle
          ? `  cycle ${subscriberWorkflowId(subscriber.id)}: ${cycle.period} ${cycle.state}${cycle.pendingCloses.length ? `, close requested for ${cycle.pendingCloses.join(', ')}` : ''}; ${cycle.closedCycles} cycles closed in this chain`
          : `  cycle ${subscriberWorkflowId(subscriber.id)}: not available (${cycleProblem})`,
        ...cases.map((c) => `  abuse case ${c.id}: ${c.state}${c.reviewer ? ` (${c.action} by ${c.reviewer}${c.untilAt ? ` until ${c.untilAt}` : ''})` : ''}, ${c.findings} findings: ${c.detectors.join(', ')}`),
        ...(flaggedCalls > 0 ? [`  ${flaggedCalls} calls arrived while the account was suspended or terminated (view calls_with_flags)`] : []),
        ...invoices.map((i) => `  invoice ${i.id}: ${formatCents(i.totalCents)} ${i.currency}, overage ${i.overageMinutes} min`),
      ]);
    }));
}
