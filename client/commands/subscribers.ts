import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { formatCents, parseAmountToCents } from '../../billing/money';
import { DaySchema, EmailSchema, IdSchema, PhoneNumberSchema, serviceStartProblem, TimeZoneSchema } from '../../billing/validation';
import { firstPolicyDay, policyInEffectOn } from '../../db/policies';
import { DuplicateError, insertSubscriber, listSubscribers } from '../../db/subscribers';
import { policyChangeWorkflowId, subscriberJoinedSignal, subscriberWorkflowId } from '../../workflows/messages';
import { queueNoticesForNewSubscriber } from '../../activities/policy-change';
import { rematchUnmatched } from '../../activities/rematch';
import { queueUsageAlerts } from '../../activities/usage-alerts';
import { sendUsageAlerts } from '../alerts';
import { startSubscriberEntity } from '../subscriber-entity';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { plural, printJson, printTable } from '../output';
import { convert, flag } from '../validate';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * A subscriber who joins while a policy revision is in flight is told about it now (issue 6): the
 * notice is queued in the outbox here, and its `policy-change-<version>` is woken to send it. Were
 * the signal lost, the workflow still sends it before the reminder or activation.
 */
async function tellAboutRevisions(ctx: CommandContext, subscriberId: string): Promise<string[]> {
  const versions = await queueNoticesForNewSubscriber(await ctx.pool(), subscriberId);
  const told: string[] = [];
  for (const version of versions) {
    try {
      await (await ctx.temporal()).workflow.getHandle(policyChangeWorkflowId(version)).signal(subscriberJoinedSignal, { subscriberId });
      told.push(`notice of policy version ${version} handed to ${policyChangeWorkflowId(version)}`);
    } catch (error) {
      told.push(`notice of policy version ${version} queued; ${policyChangeWorkflowId(version)} sends it with its next batch (${(error as Error).message})`);
    }
  }
  return told;
}

export function registerSubscriberCommands(program: Command, run: RunCommand): void {
  const subscribers = program.command('subscribers').description('register and list subscribers');

  subscribers
    .command('add')
    .description('register a subscriber and start their billing cycle')
    .requiredOption('--id <id>', 'subscriber id (letters, digits, . _ -)')
    .requiredOption('--email <email>', 'where invoices and notices go')
    .option('--name <name>', 'display name')
    .option('--number <number>', 'a phone number or extension they own (repeatable)', collect, [])
    .option('--account-code <code>', 'switch account code that identifies their calls')
    .option('--timezone <zone>', 'IANA time zone of their billing month', 'UTC')
    .option('--business', 'a business account: shown to support with a request for a higher limit (any subscriber may ask)', false)
    .option('--monthly-fee <amount>', 'monthly charge, e.g. 29.99', '0.00')
    .option('--since <date>', 'service start YYYY-MM-DD (default: today in their zone)')
    .option('--json', 'print the result as JSON')
    .action((opts) => run(async (ctx) => {
      const timezone = flag(TimeZoneSchema, opts.timezone, '--timezone');
      const subscriber = {
        id: flag(IdSchema, opts.id, '--id'),
        email: flag(EmailSchema, opts.email, '--email'),
        name: opts.name as string | undefined,
        timezone,
        business: Boolean(opts.business),
        monthlyFeeCents: convert('--monthly-fee', opts.monthlyFee, parseAmountToCents),
        accountCode: opts.accountCode as string | undefined,
        serviceStart: flag(DaySchema, opts.since ?? DateTime.now().setZone(timezone).toISODate(), '--since'),
        numbers: (opts.number as string[]).map((n) => flag(PhoneNumberSchema, n, '--number')),
      };
      if (new Set(subscriber.numbers).size !== subscriber.numbers.length) throw new InputError(`--number lists a number twice: ${subscriber.numbers.join(', ')}`);
      const tooEarly = serviceStartProblem(subscriber.serviceStart, await firstPolicyDay(await ctx.pool()));
      if (tooEarly) throw new InputError(tooEarly);
      try {
        await insertSubscriber(await ctx.pool(), subscriber);
      } catch (error) {
        if (error instanceof DuplicateError) throw new InputError(error.message);
        throw error;
      }
      // Records that arrived before this subscriber or number was registered are theirs now.
      const pool = await ctx.pool();
      const rematch = await rematchUnmatched(pool);
      const alerts = rematch.attributed > 0 ? await sendUsageAlerts(ctx, await queueUsageAlerts(pool, rematch.touched), `subscriber-added-${subscriber.id}-${Date.now()}`) : undefined;
      const firstPeriod = subscriber.serviceStart.slice(0, 7);
      let cycle = `started ${subscriberWorkflowId(subscriber.id)} for ${firstPeriod}`;
      try {
        await startSubscriberEntity(await ctx.temporal(), ctx.config.taskQueue, subscriber);
      } catch (error) {
        cycle = `not started yet (${(error as Error).message}); the first month close starts it`;
      }
      const revisions = await tellAboutRevisions(ctx, subscriber.id);
      const earlier = rematch.attributed > 0 ? `; ${plural(rematch.attributed, 'earlier unmatched record')} attributed (${alerts})` : '';
      if (opts.json) printJson({ ...subscriber, workflowId: subscriberWorkflowId(subscriber.id), cycle, earlierRecordsAttributed: rematch.attributed, policyNotices: revisions });
      else process.stdout.write(`added subscriber ${subscriber.id} (${subscriber.email}, ${timezone}, since ${subscriber.serviceStart}); billing cycle ${cycle}${earlier}${revisions.length ? `; ${revisions.join('; ')}` : ''}\n`);
    }));

  subscribers
    .command('list')
    .description('list subscribers')
    .option('--json', 'print as JSON')
    .action((opts) => run(async (ctx) => {
      const pool = await ctx.pool();
      const rows = await listSubscribers(pool);
      if (opts.json) return printJson(rows);
      const { currency } = await policyInEffectOn(pool, new Date().toISOString().slice(0, 10));
      printTable(rows.map((s) => ({ ...s, monthlyFee: `${formatCents(s.monthlyFeeCents)} ${currency}`, numbers: s.numbers.join(' '), business: s.business ? 'yes' : '' })),
        [['id', 'Subscriber'], 'name', 'email', ['timezone', 'Time zone'], 'business', 'monthlyFee', 'serviceStart', 'status', 'numbers']);
    }));
}
