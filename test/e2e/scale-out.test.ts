/**
 * Scale-out, as docker-compose.yml deploys it (worker replicas on one task queue): two
 * `billing worker` processes close a month together on the dev server, each started with only the
 * production dependencies loadable (test/helpers/production-only.js: what the image holds). Half
 * way through one of them goes, and the other finishes the close. The closed runs' histories show
 * that both workers ran subscribers' closes. Every subscriber has exactly one invoice and one
 * invoice email:
 * - a worker stopped (SIGTERM, as `docker compose stop` or a scale-down does) finishes the work in
 *   hand first: each subscriber receives their email exactly once;
 * - a worker killed (SIGKILL) can be cut inside an SMTP transaction. The outbox counts each such
 *   attempt as of unknown outcome and sends the email again under the same Message-ID (README,
 *   "What the outbox guarantees"), so a subscriber may hold a second copy of the one message,
 *   never more copies than the attempts counted.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LIVENESS_FILE_NAME } from '../../workers/liveness';
import { monthCloseWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { prebuiltBundleEnv } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { startDevServer, TEST_OPS_EMAIL } from '../helpers/temporal';

const BIN = path.resolve(__dirname, '../../bin/billing.js');
const PRODUCTION_ONLY = path.resolve(__dirname, '../helpers/production-only.js');
const SUBSCRIBERS = 60;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-scale-out-'));

interface WorkerProcess {
  name: string;
  process: ChildProcess;
  log: string;
  dataDir: string;
}

let env: TestWorkflowEnvironment;
const databases: TestDatabase[] = [];
const smtps: TestSmtpServer[] = [];
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  env = await startDevServer();
});

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker, 'SIGKILL');
  for (const db of databases) await db.drop();
  await Promise.all([env?.teardown(), ...smtps.map((s) => s.close())]);
  fs.rmSync(base, { recursive: true, force: true });
});

/** A `billing worker` process as a replica of the compose file runs it; resolves once it polls. */
async function startWorker(name: string, settings: { databaseUrl: string; taskQueue: string; smtpUrl: string; mailLeaseSeconds?: number }): Promise<WorkerProcess> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  const dataDir = path.join(base, name);
  const child = spawn(process.execPath, ['-r', PRODUCTION_ONLY, BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: settings.databaseUrl,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      BILLING_TASK_QUEUE: settings.taskQueue,
      SMTP_URL: settings.smtpUrl,
      BILLING_OPS_EMAIL: TEST_OPS_EMAIL,
      BILLING_DATA_DIR: dataDir,
      ...prebuiltBundleEnv(),
      ...(settings.mailLeaseSeconds === undefined ? {} : { BILLING_MAIL_LEASE_SECONDS: String(settings.mailLeaseSeconds) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: WorkerProcess = { name, process: child, log: '', dataDir };
  child.stdout!.on('data', (d) => {
    worker.log += d;
  });
  child.stderr!.on('data', (d) => {
    worker.log += d;
  });
  workers.push(worker);
  const deadline = Date.now() + 90_000;
  while (!worker.log.includes('worker polling task queue')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start:\n${worker.log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
  if (worker.process.exitCode !== null || worker.process.signalCode !== null) return;
  const exited = new Promise((r) => worker.process.once('exit', r));
  worker.process.kill(signal);
  await exited;
}

// Each case its own database, mail server, task queue, subscribers and month on the one dev server.
test.each([
  { how: 'stopped', signal: 'SIGTERM' as const, period: '2026-09', prefix: 't' },
  { how: 'killed', signal: 'SIGKILL' as const, period: '2026-10', prefix: 'k' },
])(
  'two worker processes on one task queue close a month together, one $how half way: one invoice and one invoice email per subscriber',
  async ({ how, signal, period, prefix }) => {
    const taskQueue = `scale-out-${how}`;
    const [db, smtp] = await Promise.all([createTestDatabase(), startSmtpServer()]);
    databases.push(db);
    smtps.push(smtp);
    for (let i = 1; i <= SUBSCRIBERS; i += 1) {
      await givenSubscriber(db.pool, { id: `${prefix}${String(i).padStart(3, '0')}`, monthlyFeeCents: 1500, serviceStart: `${period}-01` });
    }
    // Killed, a worker leaves the emails it was sending leased to it: a 3 s lease (BILLING_MAIL_LEASE_SECONDS)
    // lets the other send them again after 3 s instead of 30. Stopped, it finishes them: the default lease.
    const settings = { databaseUrl: db.url, taskQueue, smtpUrl: smtp.url, ...(signal === 'SIGKILL' ? { mailLeaseSeconds: 3 } : {}) };
    const [a, b] = await Promise.all([startWorker(`${how}-a`, settings), startWorker(`${how}-b`, settings)]);
    // Each keeps the liveness file the image's health check reads.
    for (const worker of [a, b]) expect(fs.existsSync(path.join(worker.dataDir, LIVENESS_FILE_NAME))).toBe(true);

    const invoicesWritten = async (): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM invoices WHERE period = $1`, [period])).rows[0].n;
    const handle = await env.client.workflow.start(monthCloseWorkflow, {
      workflowId: monthCloseWorkflowId(period),
      taskQueue,
      args: [{ period, batchSize: 20, graceHours: 0 }],
    });

    // Half way, worker a goes; worker b carries on alone.
    const deadline = Date.now() + 120_000;
    while ((await invoicesWritten()) < SUBSCRIBERS / 2) {
      if (Date.now() > deadline) throw new Error(`fewer than ${SUBSCRIBERS / 2} invoices after 120 s:\n${a.log}\n${b.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const atStop = await invoicesWritten();
    await stopWorker(a, signal);
    expect(atStop).toBeLessThan(SUBSCRIBERS);
    // Its liveness file goes with a stopped worker, and ages with a killed one.
    expect(fs.existsSync(path.join(a.dataDir, LIVENESS_FILE_NAME))).toBe(signal === 'SIGKILL');

    const summary = await handle.result();
    expect(summary).toMatchObject({ period, complete: true, subscribers: SUBSCRIBERS, invoices: SUBSCRIBERS, emailed: SUBSCRIBERS });
    expect(b.process.exitCode).toBeNull();

    // Exactly one invoice per subscriber.
    const { rows: invoices } = await db.pool.query(`SELECT subscriber_id, count(*)::int AS n FROM invoices WHERE period = $1 GROUP BY subscriber_id`, [period]);
    expect(invoices).toHaveLength(SUBSCRIBERS);
    expect(invoices.filter((r) => r.n !== 1)).toEqual([]);

    // One invoice email per subscriber: one message (Message-ID) each, sent, received once; after a
    // kill, a second copy only for an attempt the outbox counted as of unknown outcome.
    const { rows: outbox } = await db.pool.query(
      `SELECT to_address AS recipient, status, unknown_outcomes AS "unknownOutcomes" FROM email_outbox WHERE purpose = 'invoice' ORDER BY to_address`,
    );
    expect(outbox).toHaveLength(SUBSCRIBERS);
    expect(outbox.filter((r) => r.status !== 'sent')).toEqual([]);
    const received = new Map<string, { copies: number; messageIds: Set<string> }>();
    for (const mail of smtp.received.filter((m) => !m.to.includes(TEST_OPS_EMAIL))) {
      for (const to of mail.to) {
        const r = received.get(to) ?? { copies: 0, messageIds: new Set<string>() };
        r.copies += 1;
        r.messageIds.add(mail.messageId ?? '');
        received.set(to, r);
      }
    }
    expect(received.size).toBe(SUBSCRIBERS);
    const unknown = outbox.reduce((n, r) => n + r.unknownOutcomes, 0);
    const copies = [...received.values()].reduce((n, r) => n + r.copies, 0);
    if (signal === 'SIGTERM') {
      expect(unknown).toBe(0);
      expect([...received.entries()].filter(([, r]) => r.copies !== 1 || r.messageIds.size !== 1)).toEqual([]);
    } else {
      const beyond = outbox
        .map((r) => ({
          recipient: r.recipient,
          messages: received.get(r.recipient)?.messageIds.size,
          copies: received.get(r.recipient)?.copies ?? 0,
          unknownOutcomes: r.unknownOutcomes,
        }))
        .filter((r) => r.messages !== 1 || r.copies < 1 || r.copies > 1 + r.unknownOutcomes);
      expect(beyond).toEqual([]);
    }

    // Both workers ran subscribers' closes: the identities (pid@host) of the closed runs' workflow tasks.
    const identities = new Set<string>();
    for await (const run of env.client.workflow.list({ query: `WorkflowType = 'subscriberWorkflow' AND ExecutionStatus = 'ContinuedAsNew' AND TaskQueue = '${taskQueue}'` })) {
      const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.workflowTaskStartedEventAttributes?.identity ?? event.workflowTaskCompletedEventAttributes?.identity;
        if (identity) identities.add(identity.split('@')[0]!);
      }
    }
    expect([...identities].sort()).toEqual([String(a.process.pid), String(b.process.pid)].sort());
    process.stdout.write(
      `scale-out (${how}): ${SUBSCRIBERS} subscribers, worker a ${how} after ${atStop} invoices, ${copies} invoice emails received (${unknown} attempts of unknown outcome), workflow tasks by both workers\n`,
    );
  },
  300_000,
);
