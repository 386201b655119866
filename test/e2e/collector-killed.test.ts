/**
 * A collector's worker killed mid-page (issue 14): a `billing worker` process reading an Asterisk
 * cdr table of 200,000 rows in pages of 50,000 is killed (SIGKILL) once the first rows have landed;
 * another worker takes the activity over after its heartbeat times out and reads on from the last
 * committed page. Every call lands once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addSource, getSource } from '../../db/usage-sources';
import type { CollectorSummary } from '../../workflows/messages';
import { prebuiltBundleEnv } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { createSwitchDatabase, type SwitchDatabase } from '../helpers/switch-db';
import { startDevServer, TEST_OPS_EMAIL } from '../helpers/temporal';
import { until } from '../helpers/wait';

const BIN = path.resolve(__dirname, '../../bin/billing.js');
const ROWS = 200_000;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-collector-killed-'));
const taskQueue = 'collector-killed';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let pbx: SwitchDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [env, db, smtp, pbx] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer(), createSwitchDatabase()]);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close(), pbx?.drop()]);
  fs.rmSync(base, { recursive: true, force: true });
});

async function startWorker(name: string): Promise<ChildProcess> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      BILLING_TASK_QUEUE: taskQueue,
      SMTP_URL: smtp.url,
      BILLING_OPS_EMAIL: TEST_OPS_EMAIL,
      BILLING_DATA_DIR: path.join(base, name),
      ...prebuiltBundleEnv(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stdout!.on('data', (d) => {
    log += d;
  });
  child.stderr!.on('data', (d) => {
    log += d;
  });
  const deadline = Date.now() + 90_000;
  while (!log.includes('worker polling task queue')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

const landed = async (): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM cdr_records WHERE source = 'pbx-big'`)).rows[0].n;

test('a worker killed mid-page: another reads on from the last committed page, every call once', async () => {
  await givenSubscriber(db.pool, { id: 'alice', numbers: ['+14155550101'] });
  await pbx.pool.query(`INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, uniqueid)
    SELECT timestamp '2026-08-01 00:00:00' + n * interval '10 seconds', '"" <4155550101>', '4155550101', '331420' || lpad(n::text, 6, '0'), 'from-internal',
           'PJSIP/1001-' || n, 'PJSIP/trunk-' || n, 'Dial', 'PJSIP/trunk,60', 65, 60, 'ANSWERED', 3, 'big-' || n
      FROM generate_series(1, ${ROWS}) n`);
  await addSource(db.pool, {
    name: 'pbx-big',
    kind: 'asterisk-db',
    format: 'asterisk',
    timezone: 'UTC',
    country: null,
    voicemailNumbers: null,
    featureCodes: null,
    columns: null,
    dsn: pbx.readerUrl,
    table: 'cdr',
    dir: null,
    everySeconds: 300,
    safetyWindowSeconds: 3600,
    maxLagSeconds: 1800,
    alertAfterFailures: 3,
  });
  const first = await startWorker('a');
  const handle = await env.client.workflow.start('usageCollectorWorkflow', { workflowId: 'usage-collector-pbx-big-1', taskQueue, args: [{ source: 'pbx-big' }] });
  const atKill = await until(landed, (n) => n > 0, 120_000);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  expect(atKill).toBeLessThan(ROWS);
  await startWorker('b');
  const result = (await handle.result()) as CollectorSummary;
  expect(result.failed).toBeNull();
  expect(await landed()).toBe(ROWS);
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM calls WHERE subscriber_id = 'alice'`);
  expect(rows[0].n).toBe(ROWS);
  const source = (await getSource(db.pool, 'pbx-big'))!;
  expect(source.rowsCollected).toBeGreaterThanOrEqual(ROWS);
  // What the killed attempt had committed of its page was read again, and added nothing.
  expect(source.rowsCollected - source.duplicates).toBe(ROWS);
});
