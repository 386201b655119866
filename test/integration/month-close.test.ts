/**
 * The month close on a real Temporal dev server, PostgreSQL and SMTP server: one invoice and one
 * email per subscriber, however often it runs and even when its worker stops half way.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { monthCloseWorkflowId, progressQuery, subscriberWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { recordHistory, runChain } from '../helpers/histories';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer, TEST_OPS_EMAIL } from '../helpers/temporal';
import { formatCents } from '../../billing/money';
import { untilAtRest } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
const taskQueue = 'month-close-test';
const SUBSCRIBERS = 24;
const subscriberIds = Array.from({ length: SUBSCRIBERS }, (_, i) => `sub${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  // Each email takes the SMTP server 250 ms, so the close is slow enough to interrupt.
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer({ delayMs: 250 })]);
  for (let i = 1; i <= SUBSCRIBERS; i += 1) {
    const id = subscriberIds[i - 1]!;
    await givenSubscriber(db.pool, { id, monthlyFeeCents: 2000, serviceStart: '2026-10-01' });
    // Every third subscriber runs 100 minutes over the 2,400 included.
    await givenCalls(db.pool, callsTotalling(id, '2026-10-01', (i % 3 === 0 ? 2500 : 1000) * 60));
  }
});

afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

async function startWorker(): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, maxConcurrentActivities: 2 });
  return { worker, running: worker.run() };
}

async function count(sql: string): Promise<number> {
  const { rows } = await db.pool.query(sql);
  return rows[0].n;
}

test('a worker stopped in the middle of a close leaves exactly one invoice and one email per subscriber', async () => {
  const first = await startWorker();
  const handle = await env.client.workflow.start(monthCloseWorkflow, {
    workflowId: monthCloseWorkflowId('2026-10'),
    taskQueue,
    args: [{ period: '2026-10', batchSize: 10 }],
  });
  // When some invoices are out but not all, the worker stops,
  await smtp.waitForCount(3, 60_000);
  first.worker.shutdown();
  await first.running;
  // (a graceful stop lets the subscriber closes in hand finish, their invoice mail included, as
  // local activities of their workflow tasks; the close itself is left unfinished)
  expect(smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL))).toHaveLength(0);
  expect((await handle.describe()).status.name).toBe('RUNNING');

  // and another worker takes over.
  const second = await startWorker();
  try {
    const summary = await handle.result();
    expect(summary).toMatchObject({ period: '2026-10', complete: true, subscribers: SUBSCRIBERS, invoices: SUBSCRIBERS, emailed: SUBSCRIBERS });
    // 8 subscribers × 100 min over at 0.05 = 5.00 each; 24 monthly fees of 20.00.
    expect(summary.overageMinutes).toBe(800);
    expect(summary.totalCents).toBe(SUBSCRIBERS * 2000 + 8 * 500);
    expect(await handle.query(progressQuery)).toMatchObject({ phase: 'done', requested: SUBSCRIBERS, invoices: SUBSCRIBERS, emailed: SUBSCRIBERS });

    expect(await count("SELECT count(*)::int AS n FROM invoices WHERE period = '2026-10'")).toBe(SUBSCRIBERS);
    expect(await count("SELECT count(*)::int AS n FROM email_outbox WHERE status = 'sent' AND purpose = 'invoice'")).toBe(SUBSCRIBERS);
    const recipients = smtp.received.map((m) => m.to.join(',')).filter((to) => to !== TEST_OPS_EMAIL);
    expect(new Set(recipients).size).toBe(SUBSCRIBERS);
    expect(recipients).toHaveLength(SUBSCRIBERS);
    // Billing operations get the close's summary.
    const summaryMail = smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL));
    expect(summaryMail.map((m) => m.subject)).toEqual([`Monthly close 2026-10: ${SUBSCRIBERS} invoices, ${formatCents(SUBSCRIBERS * 2000 + 8 * 500)} USD`]);

    // Running the same close again adds neither an invoice nor an email.
    const rerun = await env.client.workflow.start(monthCloseWorkflow, {
      workflowId: monthCloseWorkflowId('2026-10'),
      taskQueue,
      args: [{ period: '2026-10', batchSize: 10 }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    expect(await rerun.result()).toMatchObject({ invoices: SUBSCRIBERS, emailed: SUBSCRIBERS, totalCents: summary.totalCents });
    // Nothing the rerun set in motion is still going: the close and every subscriber's cycle are at
    // rest, and no email waits in the outbox.
    await untilAtRest(env.client, [monthCloseWorkflowId('2026-10'), ...subscriberIds.map(subscriberWorkflowId)], 60_000);
    expect(await count("SELECT count(*)::int AS n FROM email_outbox WHERE status <> 'sent'")).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM invoices')).toBe(SUBSCRIBERS);
    expect(smtp.received).toHaveLength(SUBSCRIBERS + 1);
    const [run] = await runChain(env.client, monthCloseWorkflowId('2026-10'), rerun.firstExecutionRunId);
    // Runs of the close before the fan-out-pages patch are kept as recorded then (month-close-rerun,
    // month-close-interrupted); these are today's.
    recordHistory('month-close-pages-rerun', run!.history);
    const [interrupted] = await runChain(env.client, monthCloseWorkflowId('2026-10'), handle.firstExecutionRunId);
    recordHistory('month-close-pages-interrupted', interrupted!.history);
  } finally {
    second.worker.shutdown();
    await second.running;
  }
});
