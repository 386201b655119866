/**
 * The time-travel engine (`billing demo --months N`, and the test of a year of subscribers): plays
 * a scenario (./scenario.ts) on the time-skipping test server with the real database and mail
 * server, as people and the Schedule would act, each at its simulated time:
 * - subscribers are onboarded and a policy revision published through their operations;
 * - each month's calls are imported by the real importer (db/usage-import.ts) at the simulated
 *   time, and the import's follow-up (`usage-import-<id>`) queues and mails the alerts;
 * - the limit request is recorded and approved through the same workflow and Update as the CLI;
 * - each month is closed by what the Schedule starts (`scheduledMonthCloseWorkflow`, id
 *   `month-close-scheduled-<time>`): the test server has no Schedules.
 *
 * Time only moves when the engine says so (env.sleep): between its steps the server's time is
 * locked, so a step's workflows and activities run at real pace and are awaited on durable facts
 * (a workflow's result, an entity's period), never on a fixed sleep. Timers that fall between two
 * steps (the policy reminder and activation, a cycle's grace period) fire while time skips.
 */
import { Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { CountryCode } from 'libphonenumber-js';
import { parseAmountToCents } from '../../billing/money';
import { normalizeNumber } from '../../billing/numbers';
import { nextPeriod } from '../../billing/periods';
import { dayOf } from '../../billing/policy-revision';
import { monthlyLimitMinutes } from '../../billing/rating';
import { termsForPeriod } from '../../billing/terms';
import { limitRequestCount } from '../../db/limit-requests';
import { insertStaff } from '../../db/staff';
import { getSubscriber } from '../../db/subscribers';
import { periodFacts } from '../../db/terms';
import { importUsageFile } from '../../db/usage-import';
import {
  approveUpdate,
  limitRequestWorkflowId,
  onboardSubscriberWorkflowId,
  recordLimitRequestWorkflowId,
  statusQuery,
  subscriberWorkflowId,
  usageImportWorkflowId,
  type UsageAlertsHandedOver,
} from '../../workflows/messages';
import type { onboardSubscriberWorkflow } from '../../workflows/onboard-subscriber';
import type { recordLimitRequestWorkflow } from '../../workflows/record-limit-request';
import type { MonthCloseSummary } from '../../workflows/month-close';
import type { ScheduledCloseInput } from '../../workflows/scheduled-close';
import type { usageImportFollowUpWorkflow } from '../../workflows/usage-follow-ups';
import { decideByUpdate } from '../decisions';
import { runOperation } from '../operations';
import { publishPolicyRevision } from '../policy-revisions';
import { readFacts, newEvents, type Facts, type PlayEvent } from './facts';
import { closeAtMs, REVIEWER, usageCsv, type Scenario, type UsageImport } from './scenario';

/** The worker's and the Schedule's settings the play follows (config/index.ts). */
export interface PlaySettings {
  taskQueue: string;
  closeGraceHours: number;
  closeScheduleTime: string;
  closeScheduleTimezone: string;
  closeBatchSize: number;
  limitReminderHours: number;
  limitExpiryDays: number;
  limitCeilingMinutes: number;
  policyBatchSize: number;
  policyRetryMaxMinutes: number;
}

/** What happened in one played month (index 0 is the set-up before the first). */
export interface MonthReport {
  /** The month played, or null for the set-up before the first. */
  period: string | null;
  events: PlayEvent[];
}

export interface PlayReport {
  months: MonthReport[];
  /** The simulated time the play began and ended at. */
  startedAtMs: number;
  endedAtMs: number;
  /** Real time the play took. */
  wallMs: number;
}

export interface PlayOptions {
  /** The time-skipping server, with a billing worker polling `settings.taskQueue`. */
  env: TestWorkflowEnvironment;
  pool: Pool;
  scenario: Scenario;
  settings: PlaySettings;
  /** Where the generated call records are written before they are imported. */
  workDir: string;
  /** Each step as it is done (progress), and each month once it is closed (the narrative). */
  onStep?: (line: string) => void;
  onMonth?: (month: MonthReport) => void;
}

/** How long one step may take in real time before the play stops and says which. */
const STEP_TIMEOUT_MS = 60_000;

type Action = { atMs: number; name: string; run: () => Promise<void> };

export async function playScenario(options: PlayOptions): Promise<PlayReport> {
  const { env, pool, scenario, settings } = options;
  const wallStart = Date.now();
  // A plain client: awaiting a result through it does not skip time (the test environment's would).
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const step = options.onStep ?? (() => undefined);
  const now = (): Promise<number> => env.currentTimeMs();
  const advanceTo = async (atMs: number): Promise<void> => {
    const from = await now();
    if (atMs > from) await env.sleep(atMs - from);
  };
  fs.mkdirSync(options.workDir, { recursive: true });

  let facts: Facts = await readFacts(pool);
  const startedAtMs = await now();
  const months: MonthReport[] = [{ period: null, events: [] }];
  const record = async (month: MonthReport, extra: PlayEvent[] = []): Promise<void> => {
    const atMs = await now();
    const next = await readFacts(pool);
    const events = [...extra, ...newEvents(facts, next, atMs)];
    facts = next;
    month.events.push(...events);
  };

  // The set-up: support's reviewer, the subscribers, and a policy revision for the second month.
  await insertStaff(pool, REVIEWER);
  for (const s of scenario.subscribers) {
    await runOperation<typeof onboardSubscriberWorkflow>(client, 'onboardSubscriberWorkflow', {
      workflowId: onboardSubscriberWorkflowId(s.id),
      taskQueue: settings.taskQueue,
      args: [
        {
          id: s.id,
          email: s.email,
          name: s.name,
          timezone: s.timezone,
          business: s.business,
          monthlyFeeCents: parseAmountToCents(s.monthlyFee),
          serviceStart: scenario.serviceStart,
          numbers: s.numbers.map((n) => normalizeNumber(n, 'US' as CountryCode)),
        },
      ],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: `Onboarding subscriber ${s.id}`,
    });
    step(`onboarded ${s.id} (${s.timezone}), in service from ${scenario.serviceStart}`);
  }
  const published = await publishPolicyRevision(pool, client, {
    effectiveFrom: scenario.policy.effectiveFrom,
    changes: scenario.policy.changes,
    today: dayOf(await now()),
    publishedBy: 'time-travel demo',
    taskQueue: settings.taskQueue,
    batchSize: settings.policyBatchSize,
    retryMaxMinutes: settings.policyRetryMaxMinutes,
  });
  step(
    `published policy version ${published.revision.version}, effective ${scenario.policy.effectiveFrom}: ${published.differences.map((d) => `${d.label} ${d.before} → ${d.after}`).join(', ')}`,
  );
  await within(`the notices of policy version ${published.revision.version}`, async () => {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM email_outbox WHERE purpose = 'policy-notice' AND status = 'sent'`);
    return rows[0].n >= scenario.subscribers.length;
  });
  await record(months[0]!, [
    {
      kind: 'policy-published',
      atMs: await now(),
      version: published.revision.version,
      effectiveFrom: scenario.policy.effectiveFrom,
      differences: published.differences.map((d) => `${d.label}: ${d.before} → ${d.after}`),
    },
  ]);

  options.onMonth?.(months[0]!);

  let requestId: string | undefined;
  for (const [index, played] of scenario.months.entries()) {
    const month: MonthReport = { period: played.period, events: [] };
    months.push(month);
    const actions: Action[] = played.imports.map((batch, k) => ({
      atMs: batch.atMs,
      name: `import ${k + 1} of ${played.period}`,
      run: async () => record(month, await importCalls(batch, path.join(options.workDir, `usage-${played.period}-${k + 1}.csv`))),
    }));
    const request = scenario.limitRequest;
    if (request && index === 0) {
      actions.push({
        atMs: request.requestAtMs,
        name: `${request.subscriberId}'s limit request`,
        run: async () => {
          requestId = await askForLimit(request.subscriberId, request.minutes, request.reason, played.period);
          await record(month, [{ kind: 'limit-requested', atMs: await now(), requestId, subscriberId: request.subscriberId, minutes: request.minutes }]);
        },
      });
      actions.push({
        atMs: request.decisionAtMs,
        name: `the decision on ${request.subscriberId}'s limit request`,
        run: async () => {
          const status = await decideByUpdate(client, limitRequestWorkflowId(requestId!), approveUpdate, { reviewer: REVIEWER.id, note: request.note });
          step(`${REVIEWER.id} approved ${requestId}: ${request.subscriberId} may use ${request.minutes} minutes a month (${status.state})`);
          await record(month, [
            { kind: 'limit-approved', atMs: await now(), requestId: requestId!, subscriberId: request.subscriberId, minutes: request.minutes, reviewer: REVIEWER.id },
          ]);
        },
      });
    }
    const schedule = { time: settings.closeScheduleTime, timezone: settings.closeScheduleTimezone, graceHours: settings.closeGraceHours };
    actions.push({ atMs: closeAtMs(played.period, scenario.subscribers, schedule), name: `the close of ${played.period}`, run: async () => closeMonth(played.period, month) });

    for (const action of actions.sort((a, b) => a.atMs - b.atMs)) {
      await advanceTo(action.atMs);
      await action.run();
    }
    options.onMonth?.(month);
  }
  return { months, startedAtMs, endedAtMs: await now(), wallMs: Date.now() - wallStart };

  /** Writes the batch as a usage file, imports it at the simulated time, and runs its follow-up (the alerts). */
  async function importCalls(batch: UsageImport, file: string): Promise<PlayEvent[]> {
    fs.writeFileSync(file, usageCsv(batch.calls));
    const atMs = await now();
    const summary = await importUsageFile(pool, { file, timezone: 'UTC', source: 'demo-switch', callDates: { nowMs: atMs } });
    if (summary.rejected > 0) throw new Error(`the play stopped: ${summary.rejected} rows of ${file} were rejected (see ${summary.rejectsFile})`);
    const done = await runOperation<typeof usageImportFollowUpWorkflow>(client, 'usageImportFollowUpWorkflow', {
      workflowId: usageImportWorkflowId(summary.importId),
      taskQueue: settings.taskQueue,
      args: [{ importId: summary.importId }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `Usage alerts of import ${summary.importId}`,
    });
    await alertsDelivered(done);
    step(
      `${new Date(atMs).toISOString().slice(0, 16)}Z imported ${batch.label}: ${summary.counted} counted calls${summary.late ? `, ${summary.late} late (its month is invoiced)` : ''}`,
    );
    return batch.lateCalls.map((c) => ({
      kind: 'late-call',
      atMs,
      subscriberId: c.subscriberId,
      startedAt: new Date(c.startMs).toISOString(),
      minutes: Math.ceil(c.seconds / 60),
    }));
  }

  async function alertsDelivered(done: UsageAlertsHandedOver): Promise<void> {
    if (done.alertsWorkflowId) await withTimeout(`the delivery of ${done.alertsWorkflowId}`, client.workflow.getHandle(done.alertsWorkflowId).result());
  }

  /** As `billing limit request` records it: the limit in force, the ceiling and the reminder settings. */
  async function askForLimit(subscriberId: string, minutes: number, reason: string, period: string): Promise<string> {
    const subscriber = (await getSubscriber(pool, subscriberId))!;
    const currentLimitMinutes = monthlyLimitMinutes(termsForPeriod(await periodFacts(pool, subscriber, period)));
    const { request } = await runOperation<typeof recordLimitRequestWorkflow>(client, 'recordLimitRequestWorkflow', {
      workflowId: recordLimitRequestWorkflowId(subscriberId, (await limitRequestCount(pool, subscriberId)) + 1),
      taskQueue: settings.taskQueue,
      args: [
        {
          subscriberId,
          minutes,
          reason,
          actor: 'time-travel demo',
          timezone: subscriber.timezone,
          currentLimitMinutes,
          ceilingMinutes: settings.limitCeilingMinutes,
          reminderHours: settings.limitReminderHours,
          expiryDays: settings.limitExpiryDays,
        },
      ],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: `Recording ${subscriberId}'s request for ${minutes} minutes a month`,
    });
    step(`${subscriberId} asked for ${minutes} minutes a month (now ${currentLimitMinutes}): ${request.id}`);
    return request.id;
  }

  /**
   * What the Schedule starts at its fire time, with its id convention (the action's id and the
   * time); the close's waiting phase polls every second. Done when the close is complete and
   * every subscriber's cycle has moved on to the next month (its plan decided).
   */
  async function closeMonth(period: string, month: MonthReport): Promise<void> {
    const atMs = await now();
    const workflowId = `month-close-scheduled-${new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    const input: ScheduledCloseInput = { timezone: settings.closeScheduleTimezone, batchSize: settings.closeBatchSize, waitSeconds: 1 };
    const handle = await client.workflow.start('scheduledMonthCloseWorkflow', {
      workflowId,
      taskQueue: settings.taskQueue,
      args: [input],
      staticSummary: `Monthly close: ${period}`,
    });
    const summary = (await withTimeout(`${workflowId} (the close of ${period})`, handle.result())) as MonthCloseSummary;
    const following = nextPeriod(period);
    await within(`every cycle to move on to ${following}`, async () => {
      for (const s of scenario.subscribers) {
        const status = await client.workflow.getHandle(subscriberWorkflowId(s.id)).query(statusQuery);
        if (status.period !== following) return false;
      }
      return true;
    });
    step(`${new Date(atMs).toISOString().slice(0, 16)}Z closed ${period}: ${summary.invoices} invoices, ${summary.emailed} mailed`);
    await record(month, [{ kind: 'close', atMs, period, workflowId }]);
  }
}

/** Waits for a durable fact, checked every 100 ms, for up to a minute of real time. */
async function within(what: string, fact: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await fact())) {
    if (Date.now() > deadline) throw new Error(`the play stopped: waited ${STEP_TIMEOUT_MS / 1000} s for ${what}; is the worker running?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the play stopped: waited ${STEP_TIMEOUT_MS / 1000} s for ${what}; is the worker running?`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
