/**
 * The Schedule billing-abuse-scan on a real dev server: created idempotently, it scans the day
 * before its fire time, and what it finds opens a case with its search attributes.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { dayOf, shiftDay } from '../../billing/abuse';
import { ensureAbuseScanSchedule } from '../../client/schedule';
import { ABUSE_SCAN_SCHEDULE_ID } from '../../workflows/messages';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';
import { until } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'abuse-schedule-test';
const config = { taskQueue, abuseScanTime: '13:00', abuseScanTimezone: 'UTC', abuseScanBatchSize: 2, abuseReminderHours: 24 };

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, shutdownGraceTime: '100 ms' }); // stopped after the tests only
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

test('ensure creates the daily schedule once; a trigger scans the day before in batches and opens a case findable by its search attributes', async () => {
  expect(await ensureAbuseScanSchedule(env.client, config)).toBe('created');
  expect(await ensureAbuseScanSchedule(env.client, { ...config, abuseScanTime: '14:30' })).toBe('updated');
  const handle = env.client.schedule.getHandle(ABUSE_SCAN_SCHEDULE_ID);
  const description = await handle.describe();
  expect(description.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 14, end: 14, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] })]);

  const yesterday = shiftDay(dayOf(Date.now(), 'UTC'), -1);
  for (const id of ['qa', 'qb', 'qc', 'qd', 'qe']) await givenSubscriber(db.pool, { id, serviceStart: '2026-01-01' });
  await givenCalls(
    db.pool,
    Array.from({ length: 5 }, (_, i) => ({ subscriber: 'qd', start: `${yesterday} 09:0${i}:00`, seconds: 600 })),
  );
  await handle.trigger();

  const found = await until(
    async () => (await db.pool.query(`SELECT id FROM abuse_cases WHERE subscriber_id = 'qd'`)).rows,
    (rows) => rows.length === 1,
    60_000,
  );
  const caseId = found[0].id as string;
  await until(
    () => Promise.resolve(smtp.received.filter((m) => m.subject.startsWith(`Abuse case ${caseId}:`)).length),
    (n) => n === 1,
    60_000,
  );
  const listed = await until(
    async () => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query: `SubscriberId = "qd" AND CaseState = "open" AND AbuseDetector = "simultaneous-calls"` })) ids.push(w.workflowId);
      return ids;
    },
    (ids) => ids.length === 1,
    30_000,
  );
  expect(listed).toEqual([`abuse-case-${caseId}`]);
  const scans: string[] = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowType = "abuseScanWorkflow"` })) scans.push(w.workflowId);
  expect(scans.length).toBeGreaterThanOrEqual(1);
});
