/**
 * `billing policy publish|preview|list|show|cancel`: policy revisions (DESIGN, "policy revision"; issue 6)
 * and their impact on closed months (issue 16).
 * The rules are the core's (billing/policy-revision.ts); `policy-change-<version>` carries a
 * published revision through its notices, reminder and activation.
 */
import type { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline/promises';
import { z } from 'zod';
import { parseMonthRange, previewCsv } from '../../billing/policy-preview';
import {
  cancelProblem,
  dayOf,
  parsePolicyChanges,
  policyDifferences,
  POLICY_PARAMETERS,
  revisionInFlightProblem,
  revisionProblem,
  rulesProblem,
  type PolicyChanges,
} from '../../billing/policy-revision';
import { DaySchema } from '../../billing/validation';
import { activePolicy, findPolicyVersion, listPolicyVersions, nextPolicyVersion, scheduledPolicy, type PolicyRecord } from '../../db/policies';
import { policyActivateUpdate, policyCancelUpdate, policyChangeStatusQuery, policyChangeWorkflowId, type PolicyChangeStatus } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { decideByUpdate } from '../decisions';
import { plural, printJson, printLines, printTable } from '../output';
import { checkPreviewMonths, lastClosedMonths, policyPreview, previewLines } from '../policy-preview';
import { publishPolicyRevision } from '../policy-revisions';
import { flag } from '../validate';

/** The revision's parameters, as `publish` and `preview` take them. */
function addParameterOptions(command: Command): void {
  for (const p of POLICY_PARAMETERS) {
    const example = {
      includedMinutes: 'N',
      overageRateMicros: 'AMOUNT',
      roundingIncrementSeconds: 'SECONDS',
      planStreakCycles: 'MONTHS',
      planCatalog: 'MIN:FEE,...',
      alertThresholdsPercent: 'PCT,...',
      noticeDays: 'DAYS',
      paymentTermsDays: 'DAYS',
    }[p.key];
    command.option(`${p.flag} <${example}>`, p.label.toLowerCase());
  }
}

/** The parameters given, read by the core (a bad one is a RangeError: exit 2); `required`: at least one. */
function parameterChanges(opts: Record<string, unknown>, required: boolean): PolicyChanges {
  const flags = Object.fromEntries(
    POLICY_PARAMETERS.map((p) => [p.key, opts[p.flag.slice(2).replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase())]]).filter(([, v]) => v !== undefined),
  );
  if (required && Object.keys(flags).length === 0) throw new InputError(`give at least one parameter that changes: ${POLICY_PARAMETERS.map((p) => p.flag).join(', ')}`);
  return parsePolicyChanges(flags);
}

/** Asks on the terminal; yes only for "y" or "yes". */
async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const VersionSchema = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a policy version number (see `billing policy list`)')
  .transform(Number);

/** The state as people read it: a scheduled version past its date is held, not active. */
function stateOf(p: PolicyRecord, today: string): string {
  if (p.state === 'scheduled' && p.effectiveFrom <= today) return 'scheduled (activation held)';
  return p.state;
}

async function versionOrFail(ctx: CommandContext, version: number): Promise<PolicyRecord> {
  const record = await findPolicyVersion(await ctx.pool(), version);
  if (!record) throw new InputError(`policy version ${version} does not exist; see \`billing policy list\``);
  return record;
}

function changesOf(p: PolicyRecord, all: PolicyRecord[]): string {
  const base = all.find((b) => b.version === p.basedOn);
  if (!base) return 'initial version';
  return policyDifferences(base, p)
    .map((d) => `${d.label}: ${d.before} → ${d.after}`)
    .join('; ');
}

async function workflowStatus(ctx: CommandContext, version: number): Promise<PolicyChangeStatus | string> {
  try {
    return await (await ctx.temporal()).workflow.getHandle(policyChangeWorkflowId(version)).query(policyChangeStatusQuery);
  } catch (error) {
    return `status of ${policyChangeWorkflowId(version)} not available: ${(error as Error).message}`;
  }
}

const progressLine = (s: PolicyChangeStatus): string =>
  (['notice', 'reminder', 'cancellation', 'alert'] as const)
    .map((k) => `${k}s ${s.progress[k].sent} sent, ${s.progress[k].pending} pending, ${s.progress[k].failed} failed`)
    .join('; ');

export function registerPolicyCommands(program: Command, run: RunCommand): void {
  const policy = program.command('policy').description('policy versions: publish a revision, follow it, cancel it');

  const publish = policy
    .command('publish')
    .description('publish a revision with the parameters that change; notices go to every active subscriber')
    .requiredOption('--effective <YYYY-MM-DD>', 'the first day it applies: at least the notice period (30 days by default) away')
    .option('--yes', 'publish without asking (needed when stdin is not a terminal); the preview is printed all the same')
    .option('--json', 'print the version (and the preview) as JSON');
  addParameterOptions(publish);
  publish.action((opts) =>
    run(async (ctx) => {
      const effectiveFrom = flag(DaySchema, opts.effective, '--effective');
      const changes = parameterChanges(opts, true);
      const pool = await ctx.pool();
      const today = dayOf(Date.now());
      // Checked here as the publication checks them (billing/policy-revision.ts), so no one confirms a revision that is refused.
      const inFlight = await scheduledPolicy(pool);
      if (inFlight) throw new InputError(revisionInFlightProblem(inFlight));
      const base = await activePolicy(pool);
      const problem = revisionProblem(base, changes, effectiveFrom, today);
      if (problem) throw new InputError(problem);
      const periods = await lastClosedMonths(pool, Date.now());
      const preview = periods.length === 0 ? undefined : await policyPreview(pool, periods, changes);
      if (!opts.json) printLines(preview ? previewLines(preview) : ['Policy preview: none of the last three months is closed yet, so there is no usage to re-rate.']);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new InputError('policy publish asks for confirmation and stdin is not a terminal: pass --yes to publish without the question');
        if (!(await confirm(`Publish policy version ${await nextPolicyVersion(pool)} (effective ${effectiveFrom}, replacing version ${base.version})? [y/N] `))) {
          throw new Error('not published: the question was not answered yes');
        }
      }
      const { revision, differences, workflowId, overtaken } = await publishPolicyRevision(pool, await ctx.temporal(), {
        effectiveFrom,
        changes,
        today,
        publishedBy: `cli:${os.userInfo().username}`,
        taskQueue: ctx.config.taskQueue,
        batchSize: ctx.config.policyBatchSize,
        retryMaxMinutes: ctx.config.policyRetryMaxMinutes,
      });
      if (opts.json) return printJson({ ...revision, differences, workflowId, overtakenGrants: overtaken, preview: preview ?? null });
      printLines([
        `published policy version ${revision.version} (scheduled, effective ${effectiveFrom}, replacing version ${base.version}); started ${workflowId}`,
        ...differences.map((d) => `  ${d.label}: ${d.before} → ${d.after}`),
        `  every subscriber billed (active or suspended) gets a notice now and a reminder 7 days before; follow it with \`billing policy show ${revision.version}\``,
        ...(overtaken.length === 0
          ? []
          : [
              `  ${overtaken.length} approved limit${overtaken.length === 1 ? ' is' : 's are'} at or below the ${revision.includedMinutes} included minutes from ${effectiveFrom}: the allowance is the larger, so ${overtaken.length === 1 ? 'it no longer raises it' : 'they no longer raise it'}:`,
              ...overtaken.map((g) => `    ${g.subscriberId}: ${g.minutes} min (${g.requestId}, ${g.fromPeriod}${g.untilPeriod ? ` to ${g.untilPeriod}` : ', no end'})`),
            ]),
      ]);
    }),
  );

  const preview = policy
    .command('preview')
    .description("re-rate closed months' usage under proposed parameters and under the terms in force then; publishes nothing")
    .option('--months <FIRST..LAST>', 'the closed months to re-rate, e.g. 2026-08..2026-10 (default: the last three closed months)')
    .option('--csv <file>', 'also write one row per subscriber and month to this CSV file')
    .option('--json', 'print the comparison as JSON');
  addParameterOptions(preview);
  preview.action((opts) =>
    run(async (ctx) => {
      const changes = parameterChanges(opts, false);
      let periods: string[];
      const pool = await ctx.pool();
      if (opts.months === undefined) {
        periods = await lastClosedMonths(pool, Date.now());
        if (periods.length === 0) throw new InputError('none of the last three months is closed yet: give --months FIRST..LAST of closed months');
      } else {
        const parsed = parseMonthRange(String(opts.months));
        if ('problem' in parsed) throw new InputError(parsed.problem);
        periods = parsed.periods;
      }
      const problem = rulesProblem({ ...(await activePolicy(pool)), ...changes });
      if (problem) throw new InputError(problem);
      await checkPreviewMonths(pool, periods, Date.now());
      const report = await policyPreview(pool, periods, changes);
      if (opts.csv !== undefined) {
        try {
          fs.writeFileSync(String(opts.csv), previewCsv(report));
        } catch (error) {
          throw new InputError(`--csv ${opts.csv}: cannot write it: ${(error as Error).message}`);
        }
      }
      if (opts.json) return printJson(report);
      printLines([
        ...previewLines(report),
        ...(opts.csv === undefined
          ? []
          : [
              `wrote ${plural(
                report.subscribers.reduce((n, s) => n + s.months.length, 0),
                'row',
              )} (one per subscriber and month) to ${opts.csv}`,
            ]),
      ]);
    }),
  );

  policy
    .command('list')
    .description('every version with its state and what it changed')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const all = await listPolicyVersions(await ctx.pool());
        const today = dayOf(Date.now());
        if (opts.json)
          return printJson(
            all.map((p) => ({
              ...p,
              displayState: stateOf(p, today),
              differences: all.find((b) => b.version === p.basedOn)
                ? policyDifferences(
                    all.find((b) => b.version === p.basedOn)!,
                    p,
                  )
                : [],
            })),
          );
        printTable(
          all.map((p) => ({ ...p, state: stateOf(p, today), activeFrom: p.activeFrom ?? '', changes: changesOf(p, all) })),
          ['version', 'state', 'effectiveFrom', 'activeFrom', 'changes'],
        );
      }),
    );

  policy
    .command('show <version>')
    .description('a version: its parameters, what it changes, and while in flight its notices')
    .option('--json', 'print as JSON')
    .action((versionText: string, opts) =>
      run(async (ctx) => {
        const p = await versionOrFail(ctx, flag(VersionSchema, versionText, 'VERSION'));
        const base = p.basedOn === null ? undefined : await findPolicyVersion(await ctx.pool(), p.basedOn);
        const differences = base ? policyDifferences(base, p) : [];
        const status = p.basedOn === null ? undefined : await workflowStatus(ctx, p.version);
        if (opts.json) return printJson({ ...p, differences, workflow: status });
        printLines([
          `policy version ${p.version}: ${stateOf(p, dayOf(Date.now()))}; effective ${p.effectiveFrom}${p.activeFrom ? `, active from ${p.activeFrom}` : ''}; published ${p.publishedAt}${p.publishedBy ? ` by ${p.publishedBy}` : ''}`,
          ...(p.cancelledAt ? [`  cancelled ${p.cancelledAt} by ${p.cancelledBy}${p.cancelReason ? `: ${p.cancelReason}` : ''}`] : []),
          ...(p.activatedAt ? [`  activated ${p.activatedAt} by ${p.activatedBy}`] : []),
          ...POLICY_PARAMETERS.map((param) => `  ${param.label.padEnd(40)} ${param.show(p)}`),
          ...(base ? [`changes from version ${base.version}:`, ...differences.map((d) => `  ${d.label.padEnd(40)} ${d.before}  →  ${d.after}`)] : []),
          ...(status === undefined
            ? []
            : typeof status === 'string'
              ? [status]
              : [
                  `${policyChangeWorkflowId(p.version)}: ${status.phase}${status.hold ? ` (held: ${status.hold.reason}${status.hold.activeFrom ? ` until ${status.hold.activeFrom}` : ''})` : ''}; ${progressLine(status)}`,
                  ...(status.lastSendError ? [`  mail server: ${status.lastSendError}; next attempt ${status.nextAttemptAt}`] : []),
                ]),
        ]);
      }),
    );

  policy
    .command('activate <version>')
    .description("billing operations' decision: activate a revision whose activation is held (some subscribers not told in time)")
    .requiredOption('--operator <name>', 'who decides, for the record')
    .option('--reason <text>', 'why')
    .option('--json', 'print the outcome as JSON')
    .action((versionText: string, opts) =>
      run(async (ctx) => {
        const p = await versionOrFail(ctx, flag(VersionSchema, versionText, 'VERSION'));
        if (p.state !== 'scheduled') throw new InputError(`policy version ${p.version} is ${p.state}: only a scheduled revision whose activation is held can be activated by hand`);
        // The workflow decides whether the date has passed, by its own clock; a refusal comes back as exit 2.
        const status = await decideByUpdate(await ctx.temporal(), policyChangeWorkflowId(p.version), policyActivateUpdate, {
          operator: opts.operator,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        if (opts.json) return printJson(status);
        printLines([`activated policy version ${p.version} from ${status.activeFrom}, decided by ${opts.operator}; notices still unsent go out late: ${progressLine(status)}`]);
      }),
    );

  policy
    .command('cancel <version>')
    .description('cancel a scheduled revision before its effective date; everyone who got the notice is told')
    .option('--operator <name>', 'who decides (default: your user name)')
    .option('--reason <text>', 'why, for the record')
    .option('--json', 'print the outcome as JSON')
    .action((versionText: string, opts) =>
      run(async (ctx) => {
        const p = await versionOrFail(ctx, flag(VersionSchema, versionText, 'VERSION'));
        const problem = cancelProblem({ version: p.version, state: p.state, effectiveFrom: p.effectiveFrom, nowMs: Date.now() });
        if (problem) throw new InputError(problem);
        // Answered once the cancellation is recorded; the workflow goes on telling everyone who got the notice.
        const status = await decideByUpdate(await ctx.temporal(), policyChangeWorkflowId(p.version), policyCancelUpdate, {
          operator: opts.operator ?? `cli:${os.userInfo().username}`,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        if (opts.json) return printJson(status);
        printLines([
          `cancelled policy version ${p.version}; ${status.progress.notice.sent} subscriber(s) had the notice and get a cancellation (${status.progress.cancellation.sent} sent so far); version ${p.basedOn} stays in effect`,
        ]);
      }),
    );
}
