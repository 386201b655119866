/**
 * `billing abuse scan|list|show|decide|suspended`: abuse prevention (issue 7). The rules of a
 * decision are the core's (billing/abuse/decisions.ts), checked by `abuse-case-<id>` on every
 * decision: `decide` is sent as an Update whose validator runs them, so our CLI, `temporal
 * workflow update execute` and the signal from the `temporal` CLI or the UI have the same result.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ABUSE_ACTIONS, ABUSE_CASE_STATES, dayOf, shiftDay, type AbuseCaseState } from '../../billing/abuse';
import { DaySchema, IdSchema } from '../../billing/validation';
import { abuseCaseEvents, abuseCaseFindings, getAbuseCase, listAbuseCases, suspendedAccounts } from '../../db/abuse';
import type { abuseScanWorkflow } from '../../workflows/abuse-scan';
import { abuseScanWorkflowId, type AbuseCaseStatus, type AbuseDecisionPayload } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { decideAbuseCase } from '../decisions';
import { printJson, printLines, printTable } from '../output';
import { flag } from '../validate';
import { formatAge } from './limit';

const CaseIdSchema = z.string().regex(/^AC-\d+$/, 'must be a case id like AC-12 (see `billing abuse list`)');
const StateSchema = z.enum(ABUSE_CASE_STATES, { error: `must be one of ${ABUSE_CASE_STATES.join(', ')}` });
const ActionSchema = z.enum(ABUSE_ACTIONS, { error: `must be one of ${ABUSE_ACTIONS.join(', ')}` });

export function describeCase(s: Pick<AbuseCaseStatus, 'state' | 'decision' | 'suspendedUntil'>): string {
  const d = s.decision;
  if (!d) return s.state;
  if (s.state === 'suspended') return `suspended by ${d.reviewer} ${s.suspendedUntil ? `until ${s.suspendedUntil}` : 'until lifted'}: ${d.reason}`;
  if (s.state === 'resumed') return `suspended by ${d.reviewer}, resumed`;
  if (s.state === 'terminated') return `terminated by ${d.reviewer}: ${d.reason}; the final invoice follows from the subscriber's cycle`;
  return `dismissed by ${d.reviewer}: ${d.reason}`;
}

/** Sends the decision (client/decisions.ts) and prints the outcome once it is carried out; a refusal exits 2 with its reason. */
async function decide(ctx: CommandContext, caseId: string, payload: Record<string, unknown>, json: boolean): Promise<void> {
  const status = await decideAbuseCase(await ctx.pool(), await ctx.temporal(), caseId, payload as unknown as AbuseDecisionPayload);
  if (json) return printJson(status);
  printLines([`${caseId} (${status.subscriberId}): ${describeCase(status)}`]);
}

export function registerAbuseCommands(program: Command, run: RunCommand): void {
  const abuse = program.command('abuse').description('abuse prevention: the daily scan, cases decided by customer support, suspended accounts');

  abuse
    .command('scan')
    .description('scan one day of every subscriber now (the Schedule billing-abuse-scan does it daily); opens or extends cases')
    .option('--date <YYYY-MM-DD>', 'the day to scan (default: yesterday in BILLING_ABUSE_SCAN_TIMEZONE)')
    .option('--json', 'print the result as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const day = opts.date === undefined ? shiftDay(dayOf(Date.now(), ctx.config.abuseScanTimezone), -1) : flag(DaySchema, opts.date, '--date');
        const result = await (
          await ctx.temporal()
        ).workflow.execute<typeof abuseScanWorkflow>('abuseScanWorkflow', {
          workflowId: abuseScanWorkflowId(day),
          taskQueue: ctx.config.taskQueue,
          args: [{ day, batchSize: ctx.config.abuseScanBatchSize, reminderHours: ctx.config.abuseReminderHours }],
          staticSummary: `Abuse scan of ${day}, by hand`,
        });
        if (opts.json) return printJson(result);
        printLines([`scanned ${day}: ${result.scanned} subscribers, ${result.findings} findings; cases with new findings: ${result.cases.join(', ') || 'none'}`]);
      }),
    );

  abuse
    .command('list')
    .description('abuse cases with their age, oldest first')
    .option('--status <state>', `only ${ABUSE_CASE_STATES.join(', ')} ones`)
    .option('--subscriber <id>', "only this subscriber's")
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const state = opts.status === undefined ? undefined : (flag(StateSchema, opts.status, '--status') as AbuseCaseState);
        const subscriberId = opts.subscriber === undefined ? undefined : flag(IdSchema, opts.subscriber, '--subscriber');
        const rows = await listAbuseCases(await ctx.pool(), { state, subscriberId });
        if (opts.json) return printJson(rows);
        printTable(
          rows.map((r) => ({ ...r, age: formatAge(r.ageSeconds), detectors: r.detectors.join(','), reviewer: r.reviewer ?? '', until: r.untilAt ?? '' })),
          [['id', 'Case'], 'subscriberId', 'state', 'age', 'findings', 'detectors', 'reviewer', 'until', 'reason'],
        );
      }),
    );

  abuse
    .command('show <case>')
    .description('a case: its findings with their evidence, and its trail')
    .option('--json', 'print as JSON')
    .action((caseArg: string, opts) =>
      run(async (ctx) => {
        const id = flag(CaseIdSchema, caseArg, 'CASE');
        const pool = await ctx.pool();
        const record = await getAbuseCase(pool, id);
        if (!record) throw new InputError(`abuse case "${id}" does not exist; see \`billing abuse list\``);
        const [findings, events] = await Promise.all([abuseCaseFindings(pool, id), abuseCaseEvents(pool, id)]);
        if (opts.json) return printJson({ ...record, findings, events });
        printLines([
          `${record.id}: ${record.subscriberId}, ${record.state}, opened ${record.createdAt} (${formatAge(record.ageSeconds)} ago)${record.reviewer ? `; ${record.action} by ${record.reviewer}: ${record.reason}` : ''}`,
          ...findings.map(
            (f) =>
              `  ${f.day} ${f.detector}: ${f.summary}\n    measured ${JSON.stringify(f.evidence.measured)}, threshold ${JSON.stringify(f.evidence.threshold)}, ${f.evidence.callCount} calls: ${f.evidence.callIds.join(' ')}`,
          ),
          ...events.map((e) => `  ${e.at}  ${e.kind.padEnd(16)} ${e.actor.padEnd(12)} ${JSON.stringify(e.detail)}`),
        ]);
      }),
    );

  abuse
    .command('decide <case>')
    .description('decide a case (as active support staff): suspend [--until], terminate, or dismiss; waits until it is carried out')
    .requiredOption('--reviewer <id>', 'your support staff id')
    .requiredOption('--action <action>', ABUSE_ACTIONS.join(' | '))
    .requiredOption('--reason <text>', 'why, as the subscriber will read it')
    .option('--until <YYYY-MM-DD>', "suspend only: the suspension ends at the start of this day in the subscriber's zone (default: until lifted)")
    .option('--json', 'print the outcome as JSON')
    .action((caseArg: string, opts) =>
      run(async (ctx) => {
        const payload: Record<string, unknown> = { reviewer: opts.reviewer, action: flag(ActionSchema, opts.action, '--action'), reason: opts.reason };
        if (opts.until !== undefined) payload.until = flag(DaySchema, opts.until, '--until');
        await decide(ctx, flag(CaseIdSchema, caseArg, 'CASE'), payload, Boolean(opts.json));
      }),
    );

  abuse
    .command('suspended')
    .description('the accounts a switch must not connect now (view suspended_accounts): numbers, account codes, until when')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const rows = await suspendedAccounts(await ctx.pool());
        if (opts.json) return printJson(rows);
        printTable(
          rows.map((r) => ({ ...r, number: r.number ?? '', accountCode: r.accountCode ?? '', until: r.until ?? (r.status === 'terminated' ? 'for good' : 'until lifted') })),
          ['subscriberId', 'status', 'number', 'accountCode', 'since', 'until', 'caseId'],
        );
      }),
    );
}
