import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import type { CountryCode } from 'libphonenumber-js';
import { formatCents, parseAmountToCents } from '../../billing/money';
import { DaySchema, EmailSchema, IdSchema, PhoneNumberSchema, serviceStartProblem, TimeZoneSchema } from '../../billing/validation';
import { firstPolicyDay, policyInEffectOn } from '../../db/policies';
import { listSubscribers } from '../../db/subscribers';
import type { onboardSubscriberWorkflow } from '../../workflows/onboard-subscriber';
import { onboardSubscriberWorkflowId } from '../../workflows/messages';
import { InputError, type RunCommand } from '../context';
import type { runOperation as RunOperation } from '../operations';
import { plural, printJson, printLines, printTable } from '../output';
import { convert, flag } from '../validate';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerSubscriberCommands(program: Command, run: RunCommand): void {
  const subscribers = program.command('subscribers').description('register and list subscribers');

  subscribers
    .command('add')
    .description('register a subscriber and start their billing cycle')
    .requiredOption('--id <id>', 'subscriber id (letters, digits, . _ -)')
    .requiredOption('--email <email>', 'where invoices and notices go')
    .option('--name <name>', 'display name')
    .option('--number <number>', 'a phone number or extension they own, in any written form: +14155550101, (415) 555-0101, 1001 (repeatable; stored in E.164)', collect, [])
    .option('--country <CC>', 'country of numbers written without a country code (default: BILLING_DEFAULT_COUNTRY, US)')
    .option('--account-code <code>', 'switch account code that identifies their calls')
    .option('--timezone <zone>', 'IANA time zone of their billing month', 'UTC')
    .option('--business', 'a business account: shown to support with a request for a higher limit (any subscriber may ask)', false)
    .option('--monthly-fee <amount>', 'monthly charge, e.g. 29.99', '0.00')
    .option('--since <date>', 'service start YYYY-MM-DD (default: today in their zone)')
    .option('--json', 'print the result as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const timezone = flag(TimeZoneSchema, opts.timezone, '--timezone');
        // Loaded here: libphonenumber's metadata (some 50 ms) stays out of `subscribers list`.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { countryProblem, normalizeNumber } = require('../../billing/numbers') as typeof import('../../billing/numbers');
        const country = String(opts.country ?? ctx.config.defaultCountry);
        const countryWrong = countryProblem(country);
        if (countryWrong) throw new InputError(`${opts.country === undefined ? 'BILLING_DEFAULT_COUNTRY' : '--country'}: ${countryWrong}`);
        const subscriber = {
          id: flag(IdSchema, opts.id, '--id'),
          email: flag(EmailSchema, opts.email, '--email'),
          name: opts.name as string | undefined,
          timezone,
          business: Boolean(opts.business),
          monthlyFeeCents: convert('--monthly-fee', opts.monthlyFee, parseAmountToCents),
          accountCode: opts.accountCode as string | undefined,
          serviceStart: flag(DaySchema, opts.since ?? DateTime.now().setZone(timezone).toISODate(), '--since'),
          // One form for every writing of a number, as attribution reads records (billing/numbers.ts).
          numbers: (opts.number as string[]).map((n) => normalizeNumber(flag(PhoneNumberSchema, n, '--number'), country as CountryCode)),
        };
        if (new Set(subscriber.numbers).size !== subscriber.numbers.length) {
          throw new InputError(`--number lists a number twice: ${(opts.number as string[]).join(', ')} are ${subscriber.numbers.join(', ')} in E.164 (country ${country})`);
        }
        const tooEarly = serviceStartProblem(subscriber.serviceStart, await firstPolicyDay(await ctx.pool()));
        if (tooEarly) throw new InputError(tooEarly);
        // Onboarding runs as a workflow whose first activity inserts the subscriber (refusing a
        // duplicate); attribution, alerts, the entity and a policy notice follow durably.
        const workflowId = onboardSubscriberWorkflowId(subscriber.id);
        // Loaded here: the Temporal client it needs stays out of `subscribers list`.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { runOperation } = require('../operations') as { runOperation: typeof RunOperation };
        const done = await runOperation<typeof onboardSubscriberWorkflow>(await ctx.temporal(), 'onboardSubscriberWorkflow', {
          workflowId,
          taskQueue: ctx.config.taskQueue,
          args: [subscriber],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          staticSummary: `Onboarding subscriber ${subscriber.id}`,
        });
        const cycle = `started ${done.entityWorkflowId} for ${done.firstPeriod}`;
        const alerts = done.alertsWorkflowId ? `${plural(done.alertEmails, 'usage alert email')} handed to ${done.alertsWorkflowId}` : 'no usage alerts due';
        const revisions = done.policyNotices.map((n) =>
          n.handedOver
            ? `notice of policy version ${n.version} handed to ${n.workflowId}`
            : `notice of policy version ${n.version} queued; ${n.workflowId} sends it with its next batch (${n.error})`,
        );
        const earlier = done.earlierRecordsAttributed > 0 ? `; ${plural(done.earlierRecordsAttributed, 'earlier unmatched record')} attributed (${alerts})` : '';
        if (opts.json)
          printJson({
            ...subscriber,
            workflowId: done.entityWorkflowId,
            onboardingWorkflowId: workflowId,
            cycle,
            earlierRecordsAttributed: done.earlierRecordsAttributed,
            policyNotices: revisions,
          });
        else
          printLines([
            `added subscriber ${subscriber.id} (${subscriber.email}, ${timezone}, since ${subscriber.serviceStart}); billing cycle ${cycle}${earlier}${revisions.length ? `; ${revisions.join('; ')}` : ''}`,
          ]);
      }),
    );

  subscribers
    .command('list')
    .description('list subscribers')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const pool = await ctx.pool();
        const rows = await listSubscribers(pool);
        if (opts.json) return printJson(rows);
        const { currency } = await policyInEffectOn(pool, new Date().toISOString().slice(0, 10));
        printTable(
          rows.map((s) => ({ ...s, monthlyFee: `${formatCents(s.monthlyFeeCents)} ${currency}`, numbers: s.numbers.join(' '), business: s.business ? 'yes' : '' })),
          [['id', 'Subscriber'], 'name', 'email', ['timezone', 'Time zone'], 'business', 'monthlyFee', 'serviceStart', 'status', 'numbers'],
        );
      }),
    );
}
