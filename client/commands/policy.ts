/**
 * `billing policy publish|list|show|cancel`: policy revisions (DESIGN, "policy revision"; issue 6).
 * The rules are the core's (billing/policy-revision.ts); `policy-change-<version>` carries a
 * published revision through its notices, reminder and activation.
 */
import type { Command } from 'commander';
import os from 'node:os';
import { z } from 'zod';
import { cancelProblem, dayOf, parsePolicyChanges, policyDifferences, POLICY_PARAMETERS, type PolicyChanges } from '../../billing/policy-revision';
import { DaySchema } from '../../billing/validation';
import { findPolicyVersion, listPolicyVersions, type PolicyRecord } from '../../db/policies';
import { policyActivateUpdate, policyCancelUpdate, policyChangeStatusQuery, policyChangeWorkflowId, type PolicyChangeStatus } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { decideByUpdate } from '../decisions';
import { printJson, printLines, printTable } from '../output';
import { publishPolicyRevision } from '../policy-revisions';
import { flag } from '../validate';

const VersionSchema = z.string().regex(/^\d{1,9}$/, 'must be a policy version number (see `billing policy list`)').transform(Number);

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
  return policyDifferences(base, p).map((d) => `${d.label}: ${d.before} → ${d.after}`).join('; ');
}

async function workflowStatus(ctx: CommandContext, version: number): Promise<PolicyChangeStatus | string> {
  try {
    return await (await ctx.temporal()).workflow.getHandle(policyChangeWorkflowId(version)).query(policyChangeStatusQuery);
  } catch (error) {
    return `status of ${policyChangeWorkflowId(version)} not available: ${(error as Error).message}`;
  }
}

const progressLine = (s: PolicyChangeStatus): string => (['notice', 'reminder', 'cancellation', 'alert'] as const)
  .map((k) => `${k}s ${s.progress[k].sent} sent, ${s.progress[k].pending} pending, ${s.progress[k].failed} failed`).join('; ');

export function registerPolicyCommands(program: Command, run: RunCommand): void {
  const policy = program.command('policy').description('policy versions: publish a revision, follow it, cancel it');

  const publish = policy
    .command('publish')
    .description('publish a revision with the parameters that change; notices go to every active subscriber')
    .requiredOption('--effective <YYYY-MM-DD>', 'the first day it applies: at least the notice period (30 days by default) away')
    .option('--json', 'print the version as JSON');
  for (const p of POLICY_PARAMETERS) {
    const example = { includedMinutes: 'N', overageRateMicros: 'AMOUNT', roundingIncrementSeconds: 'SECONDS', planStreakCycles: 'MONTHS', planCatalog: 'MIN:FEE,...', alertThresholdsPercent: 'PCT,...', noticeDays: 'DAYS', paymentTermsDays: 'DAYS' }[p.key];
    publish.option(`${p.flag} <${example}>`, p.label.toLowerCase());
  }
  publish.action((opts) => run(async (ctx) => {
    const effectiveFrom = flag(DaySchema, opts.effective, '--effective');
    const flags = Object.fromEntries(POLICY_PARAMETERS.map((p) => [p.key, opts[p.flag.slice(2).replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase())]]).filter(([, v]) => v !== undefined));
    if (Object.keys(flags).length === 0) throw new InputError(`give at least one parameter that changes: ${POLICY_PARAMETERS.map((p) => p.flag).join(', ')}`);
    const changes: PolicyChanges = parsePolicyChanges(flags);
    const { revision, base, differences, workflowId, overtaken } = await publishPolicyRevision(await ctx.pool(), await ctx.temporal(), {
      effectiveFrom, changes, today: dayOf(Date.now()), publishedBy: `cli:${os.userInfo().username}`,
      taskQueue: ctx.config.taskQueue, batchSize: ctx.config.policyBatchSize, retryMaxMinutes: ctx.config.policyRetryMaxMinutes,
    });
    if (opts.json) return printJson({ ...revision, differences, workflowId, overtakenGrants: overtaken });
    printLines([
      `published policy version ${revision.version} (scheduled, effective ${effectiveFrom}, replacing version ${base.version}); started ${workflowId}`,
      ...differences.map((d) => `  ${d.label}: ${d.before} → ${d.after}`),
      `  every subscriber billed (active or suspended) gets a notice now and a reminder 7 days before; follow it with \`billing policy show ${revision.version}\``,
      ...(overtaken.length === 0 ? [] : [
        `  ${overtaken.length} approved limit${overtaken.length === 1 ? ' is' : 's are'} at or below the ${revision.includedMinutes} included minutes from ${effectiveFrom}: the allowance is the larger, so ${overtaken.length === 1 ? 'it no longer raises it' : 'they no longer raise it'}:`,
        ...overtaken.map((g) => `    ${g.subscriberId}: ${g.minutes} min (${g.requestId}, ${g.fromPeriod}${g.untilPeriod ? ` to ${g.untilPeriod}` : ', no end'})`),
      ]),
    ]);
  }));

  policy
    .command('list')
    .description('every version with its state and what it changed')
    .option('--json', 'print as JSON')
    .action((opts) => run(async (ctx) => {
      const all = await listPolicyVersions(await ctx.pool());
      const today = dayOf(Date.now());
      if (opts.json) return printJson(all.map((p) => ({ ...p, displayState: stateOf(p, today), differences: all.find((b) => b.version === p.basedOn) ? policyDifferences(all.find((b) => b.version === p.basedOn)!, p) : [] })));
      printTable(all.map((p) => ({ ...p, state: stateOf(p, today), activeFrom: p.activeFrom ?? '', changes: changesOf(p, all) })),
        ['version', 'state', 'effectiveFrom', 'activeFrom', 'changes']);
    }));

  policy
    .command('show <version>')
    .description('a version: its parameters, what it changes, and while in flight its notices')
    .option('--json', 'print as JSON')
    .action((versionText: string, opts) => run(async (ctx) => {
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
        ...(status === undefined ? [] : typeof status === 'string' ? [status] : [
          `${policyChangeWorkflowId(p.version)}: ${status.phase}${status.hold ? ` (held: ${status.hold.reason}${status.hold.activeFrom ? ` until ${status.hold.activeFrom}` : ''})` : ''}; ${progressLine(status)}`,
          ...(status.lastSendError ? [`  mail server: ${status.lastSendError}; next attempt ${status.nextAttemptAt}`] : []),
        ]),
      ]);
    }));

  policy
    .command('activate <version>')
    .description('billing operations\' decision: activate a revision whose activation is held (some subscribers not told in time)')
    .requiredOption('--operator <name>', 'who decides, for the record')
    .option('--reason <text>', 'why')
    .option('--json', 'print the outcome as JSON')
    .action((versionText: string, opts) => run(async (ctx) => {
      const p = await versionOrFail(ctx, flag(VersionSchema, versionText, 'VERSION'));
      if (p.state !== 'scheduled') throw new InputError(`policy version ${p.version} is ${p.state}: only a scheduled revision whose activation is held can be activated by hand`);
      // The workflow decides whether the date has passed, by its own clock; a refusal comes back as exit 2.
      const status = await decideByUpdate(await ctx.temporal(), policyChangeWorkflowId(p.version), policyActivateUpdate, { operator: opts.operator, ...(opts.reason ? { reason: opts.reason } : {}) });
      if (opts.json) return printJson(status);
      printLines([`activated policy version ${p.version} from ${status.activeFrom}, decided by ${opts.operator}; notices still unsent go out late: ${progressLine(status)}`]);
    }));

  policy
    .command('cancel <version>')
    .description('cancel a scheduled revision before its effective date; everyone who got the notice is told')
    .option('--operator <name>', 'who decides (default: your user name)')
    .option('--reason <text>', 'why, for the record')
    .option('--json', 'print the outcome as JSON')
    .action((versionText: string, opts) => run(async (ctx) => {
      const p = await versionOrFail(ctx, flag(VersionSchema, versionText, 'VERSION'));
      const problem = cancelProblem({ version: p.version, state: p.state, effectiveFrom: p.effectiveFrom, nowMs: Date.now() });
      if (problem) throw new InputError(problem);
      // Answered once the cancellation is recorded; the workflow goes on telling everyone who got the notice.
      const status = await decideByUpdate(await ctx.temporal(), policyChangeWorkflowId(p.version), policyCancelUpdate, { operator: opts.operator ?? `cli:${os.userInfo().username}`, ...(opts.reason ? { reason: opts.reason } : {}) });
      if (opts.json) return printJson(status);
      printLines([`cancelled policy version ${p.version}; ${status.progress.notice.sent} subscriber(s) had the notice and get a cancellation (${status.progress.cancellation.sent} sent so far); version ${p.basedOn} stays in effect`]);
    }));
}
