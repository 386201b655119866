/**
 * `billing limit request|approve|reject|list|show`: limit-increase requests (DESIGN, "limit
 * increase"). The rules are the core's (billing/limits.ts), checked by `limit-request-<id>` on
 * every decision: `approve` and `reject` are sent as Updates whose validator runs them, so our
 * CLI, `temporal workflow update execute` and the signals from the `temporal` CLI or the UI have
 * the same result.
 */
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import os from 'node:os';
import { z } from 'zod';
import { limitRequestProblem, type LimitDecision, type LimitRequestState } from '../../billing/limits';
import { periodOf } from '../../billing/periods';
import { monthlyLimitMinutes } from '../../billing/rating';
import { termsForPeriod } from '../../billing/terms';
import { IdSchema } from '../../billing/validation';
import { getLimitRequest, limitRequestCount, limitRequestEvents, listLimitRequests, PendingRequestError, pendingRequestFor } from '../../db/limit-requests';
import { getSubscriber } from '../../db/subscribers';
import { periodFacts } from '../../db/terms';
import type { recordLimitRequestWorkflow } from '../../workflows/record-limit-request';
import { recordLimitRequestWorkflowId, type ApproveDecision, type LimitRequestStatus } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { decideLimitRequest, type LimitRequestDecision } from '../decisions';
import { runOperation } from '../operations';
import { printJson, printLines, printTable } from '../output';
import { flag } from '../validate';

const RequestIdSchema = z.string().regex(/^LR-\d+$/, 'must be a request id like LR-12 (see `billing limit list`)');
const StatusSchema = z.enum(['pending', 'approved', 'rejected', 'expired']);
const MinutesSchema = z.string().regex(/^\d+$/, 'must be a whole number of minutes').transform(Number);

export function formatAge(seconds: number): string {
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  return hours ? `${days} d ${hours} h` : `${days} d`;
}

export function describeDecision(d: LimitDecision | null, status: LimitRequestStatus): string {
  if (!d) return status.state;
  if (d.kind === 'reject') return `rejected by ${d.reviewer}: ${d.reason}`;
  return `approved by ${d.reviewer}: ${d.minutes} minutes a month from ${status.fromPeriod}${d.untilPeriod ? ` to ${d.untilPeriod}` : ', no end month'}`;
}

/** Sends the decision (client/decisions.ts) and prints the outcome once it is carried out; a refusal exits 2 with its reason. */
async function decide(ctx: CommandContext, requestId: string, decision: LimitRequestDecision, json: boolean): Promise<void> {
  const status = await decideLimitRequest(await ctx.pool(), await ctx.temporal(), requestId, decision);
  if (json) return printJson(status);
  printLines([`${requestId} (${status.subscriberId}, asked for ${status.requestedMinutes} minutes): ${describeDecision(status.decision, status)}; the subscriber is told`]);
}

export function registerLimitCommands(program: Command, run: RunCommand): void {
  const limit = program.command('limit').description('limit-increase requests, decided by customer support');

  limit
    .command('request')
    .description("record a subscriber's request for a higher monthly limit; mails them and support")
    .requiredOption('--subscriber <id>', 'the subscriber asking')
    .requiredOption('--minutes <n>', 'the monthly limit asked for, in minutes')
    .requiredOption('--reason <text>', 'why they need it')
    .option('--json', 'print the request as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const subscriberId = flag(IdSchema, opts.subscriber, '--subscriber');
        const minutes = flag(MinutesSchema, opts.minutes, '--minutes');
        const reason = String(opts.reason).trim();
        const pool = await ctx.pool();
        const subscriber = await getSubscriber(pool, subscriberId);
        if (!subscriber) throw new InputError(`subscriber "${subscriberId}" does not exist; see \`billing subscribers list\``);
        const pending = await pendingRequestFor(pool, subscriber.id);
        if (pending) throw new InputError(new PendingRequestError(pending).message);
        const period = periodOf(Date.now(), subscriber.timezone);
        // The limit in force this month: the included minutes or a grant, before plan and proration.
        const currentLimitMinutes = monthlyLimitMinutes(termsForPeriod(await periodFacts(pool, subscriber, period)));
        const rules = { currentLimitMinutes, ceilingMinutes: ctx.config.limitCeilingMinutes };
        const problem = limitRequestProblem({ subscriberStatus: subscriber.status, minutes, reason }, rules);
        if (problem) throw new InputError(problem.startsWith('the ') ? problem : `--${problem}`);

        // Recorded and started by a workflow whose first activity writes the request (refusing a
        // second pending one): a crash between the two leaves nothing half done.
        const { request, workflowId } = await runOperation<typeof recordLimitRequestWorkflow>(await ctx.temporal(), 'recordLimitRequestWorkflow', {
          workflowId: recordLimitRequestWorkflowId(subscriber.id, (await limitRequestCount(pool, subscriber.id)) + 1),
          taskQueue: ctx.config.taskQueue,
          args: [
            {
              subscriberId: subscriber.id,
              minutes,
              reason,
              actor: `cli:${os.userInfo().username}`,
              timezone: subscriber.timezone,
              ...rules,
              reminderHours: ctx.config.limitReminderHours,
              expiryDays: ctx.config.limitExpiryDays,
            },
          ],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          staticSummary: `Recording ${subscriber.id}'s request for ${minutes} minutes a month`,
        });
        if (opts.json) return printJson({ ...request, workflowId });
        printLines([
          `recorded limit request ${request.id}: ${subscriber.id} asks for ${minutes} minutes a month (now ${rules.currentLimitMinutes}); started ${workflowId}`,
          `  the subscriber and support (${ctx.config.supportEmail}) are mailed; support decides with \`billing limit approve|reject ${request.id} --reviewer ID ...\``,
        ]);
      }),
    );

  limit
    .command('approve <request>')
    .description('approve a pending request (as active support staff); waits until the limit is applied')
    .requiredOption('--reviewer <id>', 'your support staff id')
    .option('--minutes <n>', 'the limit granted, if not the one asked for')
    .option('--until <YYYY-MM>', 'the last month the limit applies (default: no end)')
    .option('--note <text>', 'a note for the subscriber')
    .option('--json', 'print the outcome as JSON')
    .action((requestId: string, opts) =>
      run(async (ctx) => {
        const payload: Record<string, unknown> = { reviewer: opts.reviewer };
        if (opts.minutes !== undefined) payload.minutes = flag(MinutesSchema, opts.minutes, '--minutes');
        if (opts.until !== undefined) payload.until = opts.until;
        if (opts.note !== undefined) payload.note = opts.note;
        await decide(ctx, flag(RequestIdSchema, requestId, 'REQUEST'), { kind: 'approve', payload: payload as unknown as ApproveDecision }, Boolean(opts.json));
      }),
    );

  limit
    .command('reject <request>')
    .description('reject a pending request with a reason (as active support staff)')
    .requiredOption('--reviewer <id>', 'your support staff id')
    .requiredOption('--reason <text>', 'why, as the subscriber will read it')
    .option('--json', 'print the outcome as JSON')
    .action((requestId: string, opts) =>
      run(async (ctx) => {
        await decide(ctx, flag(RequestIdSchema, requestId, 'REQUEST'), { kind: 'reject', payload: { reviewer: opts.reviewer, reason: opts.reason } }, Boolean(opts.json));
      }),
    );

  limit
    .command('list')
    .description('limit requests with their age, oldest first')
    .option('--status <status>', 'only pending, approved, rejected or expired ones')
    .option('--subscriber <id>', "only this subscriber's")
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const status = opts.status === undefined ? undefined : (flag(StatusSchema, opts.status, '--status') as LimitRequestState);
        const subscriberId = opts.subscriber === undefined ? undefined : flag(IdSchema, opts.subscriber, '--subscriber');
        const rows = await listLimitRequests(await ctx.pool(), { status, subscriberId });
        if (opts.json) return printJson(rows);
        printTable(
          rows.map((r) => ({
            ...r,
            age: formatAge(r.ageSeconds),
            asked: r.requestedMinutes,
            granted: r.approvedMinutes ?? '',
            until: r.untilPeriod ?? '',
            reviewer: r.reviewer ?? '',
          })),
          [['id', 'Request'], 'subscriberId', ['asked', 'Asked (min)'], 'status', 'age', 'reviewer', ['granted', 'Granted (min)'], 'until', 'reason'],
        );
      }),
    );

  limit
    .command('show <request>')
    .description('a request and its trail: every step with its time and actor')
    .option('--json', 'print as JSON')
    .action((requestId: string, opts) =>
      run(async (ctx) => {
        const id = flag(RequestIdSchema, requestId, 'REQUEST');
        const pool = await ctx.pool();
        const request = await getLimitRequest(pool, id);
        if (!request) throw new InputError(`limit request "${id}" does not exist; see \`billing limit list\``);
        const events = await limitRequestEvents(pool, id);
        if (opts.json) return printJson({ ...request, events });
        printLines([
          `${request.id}: ${request.subscriberId} asks for ${request.requestedMinutes} minutes a month (${request.reason}); ${request.status}, made ${request.createdAt} (${formatAge(request.ageSeconds)} ago)`,
          ...events.map((e) => `  ${e.at}  ${e.kind.padEnd(16)} ${e.actor.padEnd(12)} ${JSON.stringify(e.detail)}`),
        ]);
      }),
    );
}
