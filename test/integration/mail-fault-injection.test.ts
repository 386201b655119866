/**
 * Fault injection on the dev server (issue 12, "Also"): a close of 200 subscribers through an SMTP
 * relay that confirms slowly, with the worker process killed (SIGKILL) and PostgreSQL restarted
 * half way. Whatever the timing, every subscriber has exactly one invoice, every invoice email is
 * marked sent, and no one gets an email twice beyond the attempts the outbox counted as
 * "outcome unknown" (a resend carries the same Message-ID, so copies are told apart by it).
 *
 * PostgreSQL here is an embedded server of this file's own, not the one the other test files
 * share, so that it can be stopped and started again.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { Client } from 'pg';
import { messageIdFor } from '../../activities/mail';
import { migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { freePort } from '../../stack/processes';
import { monthCloseWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { givenSubscriber } from '../helpers/fixtures';
import { startPostgresProcess, type PostgresProcess } from '../helpers/postgres-process';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { startDevServer, TEST_OPS_EMAIL } from '../helpers/temporal';

const BIN = path.resolve(__dirname, '../../bin/billing.js');
const SUBSCRIBERS = 200;
const taskQueue = 'mail-faults';
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-faults-'));
fs.chmodSync(base, 0o755);
const dataDir = path.join(base, 'pg');

let env: TestWorkflowEnvironment;
let smtp: TestSmtpServer;
let pg: PostgresProcess | undefined;
let pool: Pool;
let databaseUrl: string;
const workers: { process: ChildProcess; log: string }[] = [];

/** A `billing worker` process, as operations run it; resolves once it polls. */
async function startWorker(): Promise<{ process: ChildProcess; log: string }> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      BILLING_TASK_QUEUE: taskQueue,
      SMTP_URL: smtp.url,
      BILLING_OPS_EMAIL: TEST_OPS_EMAIL,
      BILLING_DATA_DIR: base,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker = { process: child, log: '' };
  child.stdout!.on('data', (d) => {
    worker.log += d;
  });
  child.stderr!.on('data', (d) => {
    worker.log += d;
  });
  workers.push(worker);
  const deadline = Date.now() + 60_000;
  while (!worker.log.includes('worker polling task queue')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`worker did not start:\n${worker.log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

async function stopWorker(worker: { process: ChildProcess }, signal: NodeJS.Signals): Promise<void> {
  if (worker.process.exitCode !== null || worker.process.signalCode !== null) return;
  const exited = new Promise((r) => worker.process.once('exit', r));
  worker.process.kill(signal);
  await exited;
}

const invoiceMails = () => smtp.received.filter((m) => !m.to.includes(TEST_OPS_EMAIL));

async function waitForInvoiceMails(count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (invoiceMails().length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} invoice emails, received ${invoiceMails().length} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // The relay takes each message at once and confirms it 400 ms later: a worker killed meanwhile
  // never learns that its message went out.
  [env, smtp] = await Promise.all([
    startDevServer(),
    startSmtpServer({ confirmDelayMs: 400 }),
    (async () => {
      pg = await startPostgresProcess(dataDir, await freePort());
    })(),
  ]);
  const admin = new Client({ connectionString: pg!.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE billing_faults').finally(() => admin.end());
  databaseUrl = pg!.urlFor('billing_faults');
  await migrate(databaseUrl);
  pool = createPool(databaseUrl);
  for (let i = 1; i <= SUBSCRIBERS; i += 1) {
    await givenSubscriber(pool, { id: `sub${String(i).padStart(3, '0')}`, monthlyFeeCents: 2000, serviceStart: '2026-10-01' });
  }
});

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker, 'SIGKILL');
  await pool?.end();
  await Promise.all([env?.teardown(), smtp?.close(), pg?.stop()]);
  fs.rmSync(base, { recursive: true, force: true });
});

// About 40 s: two worker processes, a PostgreSQL restart and 200 slow mails; the 30 s leases of the
// emails the killed worker was sending take most of it.
test('a close through a slow relay, its worker killed and PostgreSQL restarted half way: one invoice each, no mail twice beyond the outcomes the outbox counts unknown', async () => {
  const first = await startWorker();
  const handle = await env.client.workflow.start(monthCloseWorkflow, {
    workflowId: monthCloseWorkflowId('2026-10'),
    taskQueue,
    // Polls for the cycles' completion every second rather than every 5 s: done as soon as the mail is.
    args: [{ period: '2026-10', batchSize: 50, graceHours: 0, waitSeconds: 1 }],
  });

  // A sixth of the way: the worker dies with sends in flight, and another takes over. The emails
  // it was sending stay leased to it for 30 s (db/outbox.ts), then are sent again: early enough
  // that the rest of the close overlaps that wait.
  await waitForInvoiceMails(SUBSCRIBERS / 6, 90_000);
  await stopWorker(first, 'SIGKILL');
  await startWorker();

  // Two thirds of the way: PostgreSQL stops (connections cut) and starts again.
  await waitForInvoiceMails((2 * SUBSCRIBERS) / 3, 90_000);
  await pg!.restart();

  const summary = await handle.result();
  expect(summary).toMatchObject({ period: '2026-10', complete: true, subscribers: SUBSCRIBERS, invoices: SUBSCRIBERS, emailed: SUBSCRIBERS });

  // Exactly one invoice per subscriber.
  const { rows: invoices } = await pool.query(`SELECT subscriber_id, count(*)::int AS n FROM invoices WHERE period = '2026-10' GROUP BY subscriber_id`);
  expect(invoices).toHaveLength(SUBSCRIBERS);
  expect(invoices.filter((r) => r.n !== 1)).toEqual([]);

  // Every invoice email marked sent, and received at least once under its own Message-ID...
  const { rows: outbox } = await pool.query(`SELECT idempotency_key AS key, status, attempts, unknown_outcomes AS "unknownOutcomes" FROM email_outbox WHERE purpose = 'invoice'`);
  expect(outbox).toHaveLength(SUBSCRIBERS);
  expect(outbox.filter((r) => r.status !== 'sent')).toEqual([]);
  const copies = new Map<string, number>();
  for (const mail of invoiceMails()) copies.set(mail.messageId ?? '', (copies.get(mail.messageId ?? '') ?? 0) + 1);
  expect(copies.size).toBe(SUBSCRIBERS);
  // ...and more than once only as often as the outbox counted an attempt of unknown outcome.
  const beyondUnknown = outbox
    .map((r) => ({ key: r.key, copies: copies.get(messageIdFor(r.key)) ?? 0, unknownOutcomes: r.unknownOutcomes }))
    .filter((r) => r.copies < 1 || r.copies > 1 + r.unknownOutcomes);
  expect(beyondUnknown).toEqual([]);
  const duplicates = [...copies.values()].reduce((n, c) => n + c - 1, 0);
  const unknown = outbox.reduce((n, r) => n + r.unknownOutcomes, 0);
  expect(duplicates).toBeLessThanOrEqual(unknown);
  process.stdout.write(`fault injection: ${invoiceMails().length} invoice emails for ${SUBSCRIBERS} subscribers, ${duplicates} resent, ${unknown} attempts of unknown outcome\n`);
}, 300_000);
