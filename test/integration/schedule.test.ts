/**
 * The Schedule billing-month-close on a real dev server: created idempotently, it closes the month
 * before its fire time; a missed month closed by backfill comes out as it would have on time.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { periodOf, previousPeriod } from '../../billing/periods';
import { listInvoices } from '../../db/invoices';
import { ensureMonthCloseSchedule } from '../../client/schedule';
import { MONTH_CLOSE_SCHEDULE_ID, monthCloseWorkflowId } from '../../workflows/messages';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { monthCloseWorkflow, type MonthCloseSummary } from '../../workflows/month-close';
import type { scheduledMonthCloseWorkflow } from '../../workflows/scheduled-close';
import { recordHistory } from '../helpers/histories';
import { until } from '../helpers/wait';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'schedule-test';
const config = { taskQueue, closeBatchSize: 100 };

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  // The worker's grace period is the one in force: none here, so last month closes at once.
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, closeGraceHours: 0, shutdownGraceTime: '100 ms' }); // stopped after the tests only
  running = worker.run();
  for (const [id, zone] of [
    ['sa', 'UTC'],
    ['sb', 'Asia/Tokyo'],
    ['sc', 'America/Los_Angeles'],
  ] as const) {
    await givenSubscriber(db.pool, { id, timezone: zone, monthlyFeeCents: 1500, serviceStart: '2026-09-01' });
    await givenCalls(db.pool, callsTotalling(id, '2026-09-03', 2500 * 60)); // 100 min over in September
  }
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

async function closeResult(period: string, timeoutMs = 60_000): Promise<MonthCloseSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await env.client.workflow.getHandle(monthCloseWorkflowId(period)).result();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250)); // not started yet
    }
  }
}

test('ensure creates the schedule once and then only updates it', async () => {
  expect(await ensureMonthCloseSchedule(env.client, config, { time: '06:00', timezone: 'UTC' })).toBe('created');
  expect(await ensureMonthCloseSchedule(env.client, config, { time: '07:30', timezone: 'Europe/Berlin' })).toBe('updated');
  const description = await env.client.schedule.getHandle(MONTH_CLOSE_SCHEDULE_ID).describe();
  expect(description.spec.timezone).toBe('Europe/Berlin');
  expect(description.spec.calendars).toEqual([
    expect.objectContaining({ dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 7, end: 7, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] }),
  ]);
  expect(description.policies.overlap).toBe('BUFFER_ALL');
  // Its next firing is on the 1st of a month.
  const next = description.info.nextActionTimes[0]!;
  expect(next.getUTCDate() === 1 || next.getUTCDate() >= 28).toBe(true);
  await ensureMonthCloseSchedule(env.client, config, { time: '06:00', timezone: 'UTC' });
});

test('a missed month closed by backfill is billed as on time, and trigger closes the month before now', async () => {
  const handle = env.client.schedule.getHandle(MONTH_CLOSE_SCHEDULE_ID);
  // The schedule missed 2026-10-01 06:00 UTC, when it should have closed September.
  await handle.backfill({ start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-10-01T23:59:59Z') });
  const september = await closeResult('2026-09');
  expect(september).toMatchObject({ period: '2026-09', subscribers: 3, invoices: 3, emailed: 3, overageMinutes: 300, totalCents: 3 * (1500 + 500) });
  // The run the schedule started for it returns the close's summary.
  const [backfilled] = await until(
    async () => (await handle.describe()).info.recentActions,
    (actions) => actions.length >= 1,
  );
  const started = env.client.workflow.getHandle(backfilled!.action.workflow.workflowId, backfilled!.action.workflow.firstExecutionRunId);
  expect(await started.result()).toMatchObject({ period: '2026-09', invoices: 3 });
  recordHistory('scheduled-month-close-backfilled', await started.fetchHistory());

  await handle.trigger();
  const lastMonth = previousPeriod(periodOf(Date.now(), 'UTC'));
  const latest = await closeResult(lastMonth);
  expect(latest).toMatchObject({ period: lastMonth, subscribers: 3, invoices: 3, emailed: 3 });
  // September was billed once, however the months were closed.
  expect((await listInvoices(db.pool, { period: '2026-09' })).map((i) => i.totalCents)).toEqual([2000, 2000, 2000]);
});

test('a scheduled close that finds a close of the same month started by hand still running attaches to it and returns its result', async () => {
  const lastMonth = previousPeriod(periodOf(Date.now(), 'UTC'));
  // A subscriber added since: their invoices cannot be mailed while the mail server is down,
  await givenSubscriber(db.pool, { id: 'sd', monthlyFeeCents: 1500, serviceStart: '2026-09-01' });
  smtp.setDown(true);
  try {
    // so the close of last month started by hand keeps running,
    const manual = await env.client.workflow.start(monthCloseWorkflow, {
      workflowId: monthCloseWorkflowId(lastMonth),
      taskQueue,
      args: [{ period: lastMonth, batchSize: 100 }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    await until(
      () => listInvoices(db.pool, { subscriberId: 'sd' }),
      (invoices) => invoices.length >= 1,
    );
    // when the Schedule fires and its run finds that close running.
    const schedule = env.client.schedule.getHandle(MONTH_CLOSE_SCHEDULE_ID);
    const before = (await schedule.describe()).info.recentActions.length;
    await schedule.trigger();
    const started = await until(
      () => schedule.describe(),
      (d) => d.info.recentActions.length > before,
    );
    const action = started.info.recentActions[started.info.recentActions.length - 1]!.action;
    const scheduled = env.client.workflow.getHandle<typeof scheduledMonthCloseWorkflow>(action.workflow.workflowId, action.workflow.firstExecutionRunId);
    const described = await until(
      () => scheduled.describe(),
      (d) => d.status.name !== 'RUNNING' || (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'awaitMonthCloseResult'),
    );
    // It waits for that close instead of failing,
    expect(described.status.name).toBe('RUNNING');
    smtp.setDown(false);
    // and returns its result once it is complete.
    const summary = await manual.result();
    expect(summary).toMatchObject({ period: lastMonth, complete: true, subscribers: 4, invoices: 4, emailed: 4 });
    expect(await scheduled.result()).toEqual(summary);
    recordHistory('scheduled-close-attached', await scheduled.fetchHistory());
  } finally {
    smtp.setDown(false);
  }
}, 240_000);
