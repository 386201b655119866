/**
 * Metrics, health and traces of a worker (README, "Metrics, traces and logs"), on the time-skipping
 * server with real PostgreSQL and SMTP: the endpoint's counters after an import and a close, to
 * the unit; the SDK's own metrics on the same endpoint; readiness following the worker and the
 * database; the trace of a close holding its activities' spans, collected in memory.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createPool } from '../../db/pool';
import {
  billingLogger,
  clientTracingInterceptors,
  installRuntime,
  jsonLogLine,
  logFormatFor,
  startTelemetryServer,
  startTracing,
  warningsOnly,
  type InstalledRuntime,
  type TelemetryServer,
  type Tracing,
} from '../../workers/telemetry';
import { bundleWorkflows, createBillingWorker } from '../../workers/worker';
import { monthCloseWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { startTimeSkippingServer, TEST_MAIL_FROM, TEST_OPS_EMAIL, TEST_SUPPORT_EMAIL } from '../helpers/temporal';
import { until } from '../helpers/wait';

const taskQueue = 'telemetry-test';
const PERIOD = '2025-06';

let runtime: InstalledRuntime;
let tracing: Tracing;
const spans = new InMemorySpanExporter();
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let client: Client;
let worker: Worker;
let running: Promise<void> | undefined;
let server: TelemetryServer;

beforeAll(async () => {
  // Installed before anything connects: the SDK's Prometheus exporter is a Runtime option.
  runtime = await installRuntime({ metrics: true, logFormat: 'json', logLevel: 'WARN' });
  tracing = startTracing(new SimpleSpanProcessor(spans), 'billing-worker-test');
  [env, db, smtp] = await Promise.all([startTimeSkippingServer(), createTestDatabase(), startSmtpServer()]);
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', interceptors: clientTracingInterceptors(tracing) });
  worker = await createBillingWorker({
    config: { taskQueue, smtpUrl: smtp.url, mailFrom: TEST_MAIL_FROM, billingOpsEmail: TEST_OPS_EMAIL, supportEmail: TEST_SUPPORT_EMAIL, closeGraceHours: 6 },
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client,
    pool: db.pool,
    workflowBundle: await bundleWorkflows(warningsOnly(runtime.logger), { tracing: true }),
    tracing,
  });
  server = await startTelemetryServer({ host: '127.0.0.1', port: 0, pool: db.pool, sdkMetricsUrl: runtime.sdkMetricsUrl, workerState: () => worker.getState() });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await server?.close();
  await tracing?.shutdown();
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

async function get(path: string, base = server.url): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample of the scrape, by its name and labels as written; undefined when absent. */
function sample(scrape: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = scrape.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

test('readiness follows the worker and PostgreSQL; liveness answers while the process can', async () => {
  expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  // Created, not yet polling: not ready.
  expect(await get('/readyz')).toEqual({ status: 503, body: 'worker initialized\n' });
  running = worker.run();
  expect(
    await until(
      () => get('/readyz'),
      (r) => r.status === 200,
    ),
  ).toEqual({ status: 200, body: 'ready\n' });

  // The same worker with a database that does not answer: not ready, and the scrape says so.
  const lost = createPool('postgres://billing:secret@127.0.0.1:9/billing', 1);
  const cut = await startTelemetryServer({ host: '127.0.0.1', port: 0, pool: lost, workerState: () => worker.getState() });
  try {
    const ready = await get('/readyz', cut.url);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/^PostgreSQL unreachable: /);
    expect(sample((await get('/metrics', cut.url)).body, 'billing_database_up')).toBe(0);
    expect((await get('/nowhere', cut.url)).status).toBe(404);
  } finally {
    await cut.close();
    await lost.end();
  }
});

test("after an import and a close, /metrics counts the invoices, amounts, overage, mails and import rows exactly, beside the SDK's own metrics", async () => {
  // Three subscribers of a month long past: 61 minutes over (10.00 + 3.05), within the allowance
  // (10.00), and one whose mailbox the server refuses for good (5.00).
  await givenSubscriber(db.pool, { id: 'm-over', serviceStart: `${PERIOD}-01`, monthlyFeeCents: 1000 });
  await givenSubscriber(db.pool, { id: 'm-under', serviceStart: `${PERIOD}-01`, monthlyFeeCents: 1000 });
  await givenSubscriber(db.pool, { id: 'm-bounce', serviceStart: `${PERIOD}-01`, monthlyFeeCents: 500 });
  smtp.refuseRecipient('m-bounce@example.test');
  // 2,460 min 30 s in 14 calls, one call of 100 min, one row of nobody known; the same file twice.
  const rows = [
    ...callsTotalling('m-over', `${PERIOD}-01`, 2460 * 60 + 30),
    { subscriber: 'm-under', start: `${PERIOD}-10 09:00:00`, seconds: 6000 },
    { subscriber: 'nobody', start: `${PERIOD}-11 09:00:00`, seconds: 60 },
  ];
  expect(rows).toHaveLength(16);
  const first = await givenCalls(db.pool, rows);
  const again = await givenCalls(db.pool, rows);
  expect([first.rowsRead, first.counted, first.duplicates, first.unmatched, again.duplicates]).toEqual([16, 16, 0, 1, 16]);

  // A pending limit request and an open abuse case, read at the scrape.
  await db.pool.query(`INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason) VALUES ('LR-1', 'm-over', 4000, 'Season')`);
  await db.pool.query(`INSERT INTO abuse_cases (id, subscriber_id) VALUES ('AC-1', 'm-under')`);

  const handle = await client.workflow.start(monthCloseWorkflow, {
    workflowId: monthCloseWorkflowId(PERIOD),
    taskQueue,
    args: [{ period: PERIOD, batchSize: 10, waitSeconds: 1 }],
  });
  expect(await handle.result()).toMatchObject({ complete: true, subscribers: 3, invoices: 3, emailed: 2, mailFailed: 1, totalCents: 1305 + 1000 + 500 });
  // The summary for billing operations is mailed by the close itself.
  await smtp.waitForCount(4);

  const { status, body } = await get('/metrics');
  expect(status).toBe(200);
  const expected: [string, string, number][] = [
    ['billing_invoices_written_total', 'currency="USD"', 3],
    ['billing_invoiced_cents_total', 'currency="USD"', 2805],
    ['billing_overage_minutes_total', '', 61],
    ['billing_emails_sent_total', 'kind="invoice"', 2],
    ['billing_emails_failed_total', 'kind="invoice"', 1],
    ['billing_emails_sent_total', 'kind="mail-failed"', 1],
    ['billing_emails_sent_total', 'kind="close-summary"', 1],
    ['billing_close_progress', `period="${PERIOD}",state="subscribers"`, 3],
    ['billing_close_progress', `period="${PERIOD}",state="invoices"`, 3],
    ['billing_close_progress', `period="${PERIOD}",state="emailed"`, 2],
    ['billing_close_progress', `period="${PERIOD}",state="mail_failed"`, 1],
    ['billing_close_progress', `period="${PERIOD}",state="open"`, 0],
    ['billing_import_rows_total', 'outcome="read"', 32],
    ['billing_import_rows_total', 'outcome="counted"', 32],
    ['billing_import_rows_total', 'outcome="not_counted"', 0],
    ['billing_import_rows_total', 'outcome="rejected"', 0],
    ['billing_import_rows_total', 'outcome="duplicate"', 16],
    ['billing_import_rows_total', 'outcome="unmatched"', 2],
    ['billing_imports_finished_total', '', 2],
    ['billing_limit_requests_pending', '', 1],
    ['billing_abuse_cases', 'state="open"', 1],
    ['billing_abuse_cases', 'state="suspended"', 0],
    ['billing_database_up', '', 1],
  ];
  expect(expected.map(([name, labels]) => [name, labels, sample(body, name, labels)])).toEqual(expected);
  expect(sample(body, 'billing_email_attempt_errors_total', 'kind="invoice"')).toBeUndefined();
  // The SDK's own, from the Runtime's exporter: workflow task latency, slots, the sticky cache.
  expect(body).toMatch(/^temporal_workflow_task_execution_latency_bucket\{/m);
  expect(body).toMatch(/^temporal_worker_task_slots_available\{/m);
  expect(body).toMatch(/^temporal_sticky_cache_size\{/m);
  // And Node's: one process, one set of families.
  expect(body).toMatch(/^process_resident_memory_bytes /m);
  // Every metric the provisioned Grafana dashboard reads is one the endpoint serves.
  const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, '../../deploy/grafana/dashboards/billing.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const read = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(/\b(billing|temporal)_[a-z_]+/g) ?? []));
  expect(read.size).toBeGreaterThan(10);
  expect([...read].filter((name) => !new RegExp(`^(# TYPE )?${name}[ {]`, 'm').test(body))).toEqual([]);
});

// The close of the test above, as its trace tells it.
test("the trace of a close holds the spans of its workflow, its activities, the fan-out's signals and the cycles' invoices", async () => {
  const all = spans.getFinishedSpans();
  const root = all.find((s) => s.name === 'StartWorkflow:monthCloseWorkflow');
  expect(root).toBeDefined();
  const trace = all.filter((s) => s.spanContext().traceId === root!.spanContext().traceId);
  const names = new Set(trace.map((s) => s.name));
  expect([...names].sort()).toEqual(
    expect.arrayContaining([
      'RunWorkflow:monthCloseWorkflow',
      'StartActivity:requestCycleClosesFrom',
      'RunActivity:requestCycleClosesFrom',
      'StartActivity:awaitCycleCloses',
      'RunActivity:awaitCycleCloses',
      'SignalWithStartWorkflow:subscriberWorkflow',
      'HandleSignal:closeCycle',
      'RunWorkflow:subscriberWorkflow',
      'StartActivity:closeCycleWhenDue',
      'RunActivity:closeCycleWhenDue',
    ]),
  );
  // Each subscriber's cycle in it, each with its invoice's activity.
  expect(trace.filter((s) => s.name === 'RunActivity:closeCycleWhenDue').length).toBeGreaterThanOrEqual(3);
  const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
  const ancestors = (s: ReadableSpan): string[] => (s.parentSpanId && byId.has(s.parentSpanId) ? [byId.get(s.parentSpanId)!.name, ...ancestors(byId.get(s.parentSpanId)!)] : []);
  const invoice = trace.find((s) => s.name === 'RunActivity:closeCycleWhenDue')!;
  expect(ancestors(invoice)).toEqual(
    expect.arrayContaining([
      'RunWorkflow:subscriberWorkflow',
      'SignalWithStartWorkflow:subscriberWorkflow',
      'RunActivity:requestCycleClosesFrom',
      'RunWorkflow:monthCloseWorkflow',
      'StartWorkflow:monthCloseWorkflow',
    ]),
  );
});

test('a log line as JSON names the level, the message, the workflow, its run, the subscriber and the period', () => {
  const line = JSON.parse(
    jsonLogLine({
      level: 'WARN',
      message: 'signal rejected',
      timestampNanos: 1_780_000_000_000_000_000n,
      meta: { sdkComponent: 'workflow', workflowId: 'subscriber-ada', runId: 'r-1', workflowType: 'subscriberWorkflow', period: '2026-10', problem: 'bad period' },
    }),
  );
  expect(line).toEqual({
    time: '2026-05-28T20:26:40.000Z',
    level: 'warn',
    message: 'signal rejected',
    workflowId: 'subscriber-ada',
    runId: 'r-1',
    subscriber: 'ada',
    period: '2026-10',
    sdkComponent: 'workflow',
    workflowType: 'subscriberWorkflow',
    problem: 'bad period',
  });
});

test("on a terminal a log line reads as text: time, level, message, the run and activity, the line's own attributes", () => {
  const lines: string[] = [];
  const logger = billingLogger('text', 'INFO', (line) => lines.push(line));
  logger.warn('invoice email not sent yet', {
    workflowId: 'subscriber-ada',
    activityType: 'closeCycleWhenDue',
    attempt: 1,
    taskToken: 'bG9j',
    isLocal: true,
    key: 'invoice:INV-2026-10-ada',
  });
  logger.debug('below the level');
  expect(lines).toEqual([
    expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}invoice email not sent yet \[subscriber-ada, closeCycleWhenDue\] \{"key":"invoice:INV-2026-10-ada"\}\n$/),
  ]);
  // JSON unless the log stream is a terminal, or as configured.
  expect([logFormatFor('auto', { isTTY: true }), logFormatFor('auto', {}), logFormatFor('json', { isTTY: true }), logFormatFor('text', {})]).toEqual([
    'text',
    'json',
    'json',
    'text',
  ]);
});
