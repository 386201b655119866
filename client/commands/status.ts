import type { Command } from 'commander';
import { grantInForce, type LimitGrant } from '../../billing/limits';
import { formatCents } from '../../billing/money';
import { comparePeriods, periodOf } from '../../billing/periods';
import { IdSchema } from '../../billing/validation';
import { flaggedCallCount, listAbuseCases } from '../../db/abuse';
import { listInvoices } from '../../db/invoices';
import { limitGrantsFor } from '../../db/limit-requests';
import { emailsNeedingAttention, type OutboxEmailState } from '../../db/outbox';
import { policyInEffectOn } from '../../db/policies';
import { getSubscriber } from '../../db/subscribers';
import { statusQuery, subscriberWorkflowId, type SubscriberStatus } from '../../workflows/messages';
import { InputError, type RunCommand } from '../context';
import { plural, printJson, printLines } from '../output';
import { flag } from '../validate';

/** An email whose delivery needs a look: refused, not sent yet, or sent after attempts of unknown outcome. */
function mailLine(e: OutboxEmailState): string {
  const unknown =
    e.unknownOutcomes > 0
      ? `; ${e.unknownOutcomes} of ${e.attempts} attempts of unknown outcome (the server may have taken it more than once, same Message-ID ${e.messageId ?? 'on each'})`
      : '';
  const state = {
    failed: `refused for good by the mail server: ${e.lastError}`,
    pending: `not sent yet after ${e.attempts} attempts${e.lastError ? `, last error: ${e.lastError}` : ''}`,
    sent: 'sent',
    withdrawn: 'withdrawn',
  }[e.status];
  return `  mail ${e.key} to ${e.to}: ${state}${unknown}`;
}

/**
 * The limits support granted that apply this month or later: the one in force now (a later grant
 * supersedes an earlier one for the months both cover, billing/limits.ts) and those still to come.
 */
function limitLines(grants: readonly LimitGrant[], period: string): string[] {
  const range = (g: LimitGrant): string => `${g.fromPeriod} to ${g.untilPeriod ?? 'no end month'}`;
  const now = grantInForce(grants, period);
  const later = grants.filter((g) => comparePeriods(g.fromPeriod, period) > 0);
  return [
    ...(now ? [`  granted limit: ${plural(now.minutes, 'minute')} a month in ${period} (request ${now.requestId}, ${range(now)})`] : []),
    ...later.map((g) => `  granted limit: ${plural(g.minutes, 'minute')} a month from ${g.fromPeriod} (request ${g.requestId}, ${range(g)})`),
  ];
}

export function registerStatusCommand(program: Command, run: RunCommand): void {
  program
    .command('status <subscriber>')
    .description("a subscriber's account and where their billing cycle stands")
    .option('--json', 'print as JSON')
    .action((subscriberId: string, opts) =>
      run(async (ctx) => {
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
        const [invoices, cases, flaggedCalls, mail] = await Promise.all([
          listInvoices(pool, { subscriberId: subscriber.id }),
          listAbuseCases(pool, { subscriberId: subscriber.id }),
          flaggedCallCount(pool, subscriber.id),
          emailsNeedingAttention(pool, subscriber.id),
        ]);
        if (opts.json) return printJson({ subscriber, cycle, cycleProblem, invoices, abuseCases: cases, flaggedCalls, mail });
        const period = periodOf(Date.now(), subscriber.timezone);
        const [policy, grants] = await Promise.all([policyInEffectOn(pool, `${period}-01`), limitGrantsFor(pool, subscriber.id)]);
        printLines([
          `${subscriber.id} (${subscriber.name ?? 'no name'}, ${subscriber.email}${subscriber.business ? ', business account' : ''}): ${subscriber.status}, ${subscriber.timezone}, since ${subscriber.serviceStart}`,
          `  monthly fee: ${formatCents(subscriber.monthlyFeeCents)} ${policy.currency}`,
          ...limitLines(grants, period),
          cycle
            ? `  cycle ${subscriberWorkflowId(subscriber.id)}: ${cycle.period} ${cycle.state}${cycle.pendingCloses.length ? `, close requested for ${cycle.pendingCloses.join(', ')}` : ''}; ${plural(cycle.closedCycles, 'cycle')} closed in this chain`
            : `  cycle ${subscriberWorkflowId(subscriber.id)}: not available (${cycleProblem})`,
          ...cases.map(
            (c) =>
              `  abuse case ${c.id}: ${c.state}${c.reviewer ? ` (${c.action} by ${c.reviewer}${c.untilAt ? ` until ${c.untilAt}` : ''})` : ''}, ${plural(c.findings, 'finding')}: ${c.detectors.join(', ')}`,
          ),
          ...(flaggedCalls > 0 ? [`  ${plural(flaggedCalls, 'call')} arrived while the account was suspended or terminated (view calls_with_flags)`] : []),
          ...invoices.map((i) => `  invoice ${i.id}: ${formatCents(i.totalCents)} ${i.currency}, overage ${i.overageMinutes} min`),
          ...mail.map(mailLine),
        ]);
      }),
    );
}
