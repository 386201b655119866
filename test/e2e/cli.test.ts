/**
 * The CLI end to end, as billing operations use it, against a Temporal dev server, PostgreSQL and
 * an SMTP server: `billing worker` as a real process, each command in-process through the CLI's
 * entry function with its own environment (test/helpers/cli.ts); as processes (bin/billing.js)
 * where a process shows more: its exit code, and its output into a pipe.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alertMonth } from '../../billing/alerts';
import { periodBounds, periodOf } from '../../billing/periods';
import { BIN, billingIn, billingProcess, prebuiltBundleEnv, type CliResult } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { recordHistory } from '../helpers/histories';
import { usageCsv } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { startDevServer } from '../helpers/temporal';
import { until, untilOutboxSent } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: ChildProcess;
let workerLog = '';
let cliEnv: NodeJS.ProcessEnv;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-e2e-'));

type Result = CliResult;

/** `billing ARGS...` in-process, with the environment a process of this test would have. */
function billing(...args: string[]): Promise<Result> {
  return billingIn(cliEnv, args);
}

async function waitUntil(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function billingJson<T>(...args: string[]): Promise<T> {
  const result = await billing(...args, '--json');
  if (result.code !== 0) throw new Error(`billing ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  cliEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    BILLING_TASK_QUEUE: 'e2e',
    SMTP_URL: smtp.url,
    BILLING_DATA_DIR: workDir,
    ...prebuiltBundleEnv(),
  };
  worker = spawn(process.execPath, [BIN, 'worker'], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  worker.stdout!.on('data', (d) => {
    workerLog += d;
  });
  worker.stderr!.on('data', (d) => {
    workerLog += d;
  });
  const deadline = Date.now() + 60_000;
  while (!workerLog.includes('worker polling task queue')) {
    if (Date.now() > deadline || worker.exitCode !== null) throw new Error(`worker did not start:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGINT');
    await exited;
  }
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
  fs.rmSync(workDir, { recursive: true, force: true });
});

test('billing operations add subscribers, import a month of usage, close it and read the invoices', async () => {
  expect((await billing('db', 'migrate')).stdout).toContain('schema is up to date');
  expect((await billing('staff', 'add', '--id', 'sam', '--email', 'sam@support.test')).code).toBe(0);
  expect(await billingJson('staff', 'list')).toEqual([{ id: 'sam', email: 'sam@support.test', name: null, active: true, role: 'support', hasPassword: false }]);

  const added = await billing(
    'subscribers',
    'add',
    '--id',
    'ada',
    '--email',
    'ada@example.test',
    '--name',
    'Ada',
    '--timezone',
    'Europe/Paris',
    '--monthly-fee',
    '19.90',
    '--since',
    '2026-10-01',
    '--number',
    '+33155501234',
  );
  expect(added.code).toBe(0);
  expect(added.stdout).toContain('started subscriber-ada for 2026-10');
  expect((await billing('subscribers', 'add', '--id', 'ben', '--email', 'ben@example.test', '--since', '2026-10-01', '--business')).code).toBe(0);
  expect((await billingJson<{ id: string }[]>('subscribers', 'list')).map((s) => s.id)).toEqual(['ada', 'ben']);

  // Ada talks 2,460 min 30 s in October (Paris time); Ben 10 min plus a voicemail; one row is broken.
  const file = path.join(workDir, 'october.csv');
  const rows = usageCsv([
    ...Array.from({ length: 41 }, (_, i) => ({ subscriber: 'ada', start: `2026-10-${String(1 + (i % 28)).padStart(2, '0')} ${i < 28 ? '09' : '15'}:00:00`, seconds: 3600 })),
    { subscriber: 'ada', start: '2026-10-30 12:00:00', seconds: 30 },
    { subscriber: 'ben', start: '2026-10-05 08:00:00', seconds: 600, direction: 'incoming' as const },
    { subscriber: 'ben', start: '2026-10-06 08:00:00', seconds: 45, kind: 'voicemail' as const },
  ]);
  fs.writeFileSync(file, `${rows}ben,2026-10-07 25:00:00,60,outgoing,call\n`);
  const imported = await billingJson<{ rowsRead: number; counted: number; notCounted: Record<string, number>; rejected: number; rejectsFile: string }>(
    'usage',
    'import',
    file,
    '--format',
    'csv',
    '--timezone',
    'Europe/Paris',
  );
  expect(imported).toMatchObject({ format: 'csv', rowsRead: 45, counted: 43, notCounted: { 'voicemail-deposit': 1 }, rejected: 1, unmatched: 0 });
  expect(fs.readFileSync(imported.rejectsFile, 'utf8')).toContain('46,"start ""2026-10-07 25:00:00"" is not a time');
  // Importing the same file again adds nothing.
  const again = await billingJson<{ duplicates: number }>('usage', 'import', file, '--timezone', 'Europe/Paris');
  expect(again).toMatchObject({ duplicates: 44 });

  const usage = await billingJson<{ usedSeconds: number; overageMinutes: number; days: { day: string }[] }>('usage', 'show', 'ada', '--period', '2026-10');
  expect(usage).toMatchObject({ usedSeconds: 147_630, overageMinutes: 61 });
  expect(usage.days[0]!.day).toBe('2026-10-01');

  const closed = await billing('close', '--period', '2026-10', '--wait');
  expect(closed.code).toBe(0);
  expect(closed.stdout).toContain('closed 2026-10: 2 invoices for 2 subscribers, 2 mailed');

  const invoices = await billingJson<{ id: string; overageMinutes: number; totalCents: number }[]>('invoices', 'list', '--period', '2026-10');
  expect(invoices.map((i) => [i.id, i.overageMinutes, i.totalCents])).toEqual([
    ['INV-2026-10-ada', 61, 1990 + 305],
    ['INV-2026-10-ben', 0, 0],
  ]);
  const shown = await billing('invoices', 'show', 'INV-2026-10-ada');
  expect(shown.stdout).toContain('Overage: 61 min past 2400 min');
  expect(shown.stdout).toContain('total: 22.95 USD');

  const status = await billingJson<{ cycle: { period: string; closedCycles: number } }>('status', 'ada');
  expect(status.cycle).toMatchObject({ period: '2026-11', closedCycles: 1 });
  // Support sees a business account in the status (any subscriber may ask for a higher limit).
  expect((await billing('status', 'ben')).stdout).toContain('ben (no name, ben@example.test, business account): active');
  expect((await billing('status', 'ada')).stdout).not.toContain('business account');

  // October is alerted, as a month that has ended (its grace window), only until the end of November.
  const octoberAlert = alertMonth('2026-10', Date.now(), 'Europe/Paris', '2026-10-01') ? ['Your RedConnect usage for 2026-10, which has ended: 100 % of your allowance'] : [];
  await smtp.waitForCount(3 + octoberAlert.length);
  expect(
    smtp.received
      .filter((m) => !m.to.includes('billing-ops@redconnect.example'))
      .map((m) => m.subject)
      .sort(),
  ).toEqual([...octoberAlert, 'Your RedConnect invoice for 2026-10: 0.00 USD', 'Your RedConnect invoice for 2026-10: 22.95 USD']);

  // Closing again changes nothing and mails nobody twice.
  expect((await billing('close', '--period', '2026-10', '--wait')).stdout).toContain('2 invoices for 2 subscribers, 2 mailed');
  expect(smtp.received).toHaveLength(3 + octoberAlert.length);
  expect(smtp.received.filter((m) => m.to.includes('billing-ops@redconnect.example')).map((m) => m.subject)).toEqual(['Monthly close 2026-10: 2 invoices, 22.95 USD']);
});

test('usage alerts at 80 % and 100 % of the allowance go out once per threshold, however many imports follow', async () => {
  const period = periodOf(Date.now(), 'Asia/Tokyo');
  // In service since the 1st: usage dated before the service start is never alerted (DESIGN, "partial months").
  expect(
    (await billing('subscribers', 'add', '--id', 'cleo', '--email', 'cleo@example.test', '--timezone', 'Asia/Tokyo', '--number', '+81355500001', '--since', `${period}-01`)).code,
  ).toBe(0);
  // The n-th minute of Cleo's month (written in UTC): in the past whatever day the test runs, as
  // calls dated more than a day ahead are rejected.
  const monthStartMs = periodBounds(period, 'Asia/Tokyo').startMs;
  const day = (n: number): string => new Date(monthStartMs + n * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const importRows = async (name: string, rows: { start: string; seconds: number }[]): Promise<void> => {
    const file = path.join(workDir, name);
    fs.writeFileSync(file, usageCsv(rows.map((r) => ({ subscriber: 'cleo', ...r }))));
    const result = await billing('usage', 'import', file);
    expect(result.code).toBe(0);
  };
  const before = smtp.received.length;
  const cleoMail = (): string[] =>
    smtp.received
      .slice(before)
      .filter((m) => m.to.includes('cleo@example.test'))
      .map((m) => m.subject);
  // 1,900 minutes: below 80 % of 2,400; nothing is sent.
  await importRows('cleo-1.csv', [{ start: day(1), seconds: 1900 * 60 }]);
  // +20 minutes: 1,920 = exactly 80 %.
  await importRows('cleo-2.csv', [{ start: day(2), seconds: 20 * 60 }]);
  await waitUntil(() => cleoMail().length === 1);
  expect(cleoMail()).toEqual([`You have used 80 % of your RedConnect allowance for ${period}`]);
  // The same file again, and a little more usage still under 100 %: nothing new.
  await importRows('cleo-2.csv', [{ start: day(2), seconds: 20 * 60 }]);
  await importRows('cleo-3.csv', [{ start: day(3), seconds: 100 * 60 }]);
  // Past the allowance: the 100 % mail names the overage rate that now applies.
  await importRows('cleo-4.csv', [{ start: day(4), seconds: 400 * 60 }]);
  await waitUntil(() => cleoMail().length === 2);
  await importRows('cleo-5.csv', [{ start: day(5), seconds: 60 }]);
  // An import queues its alerts in the outbox before it exits: two for the cycle, both sent.
  await untilOutboxSent(db.pool, `usage-alert:cleo:%`, 2);
  expect(cleoMail()).toEqual([`You have used 80 % of your RedConnect allowance for ${period}`, `You have used your full RedConnect allowance for ${period}`]);
  const full = smtp.received.find((m) => m.subject.startsWith('You have used your full'))!;
  expect(full.text).toContain('charged at the standard overage rate of 0.05 USD a minute until the next billing cycle begins');

  // A delivery of queued alerts, recorded for the replay test.
  const [delivery] = await until(
    async () => {
      const found: { workflowId: string; runId: string }[] = [];
      for await (const w of env.client.workflow.list({ query: 'WorkflowType = "deliverEmailsWorkflow" AND ExecutionStatus = "Completed"' })) found.push(w);
      return found;
    },
    (found) => found.length >= 1,
  );
  recordHistory('email-delivery-usage-alerts', await env.client.workflow.getHandle(delivery!.workflowId, delivery!.runId).fetchHistory());
});

test('bad input exits 2 with one line naming the bad value', async () => {
  const cases: [string[], string][] = [
    [['close', '--period', '2026-13'], '--period "2026-13" must be a month written YYYY-MM'],
    [['subscribers', 'add', '--id', 'x', '--email', 'not-an-email'], '--email "not-an-email" must be an email address'],
    [['subscribers', 'add', '--id', 'y', '--email', 'y@example.test', '--timezone', 'Mars/Olympus'], '--timezone "Mars/Olympus" must be an IANA time zone name'],
    [['subscribers', 'add', '--id', 'z', '--email', 'z@example.test', '--monthly-fee', '12.345'], '--monthly-fee: amount "12.345" has more than 2 decimal places'],
    [['subscribers', 'add', '--id', 'ada', '--email', 'a@example.test'], 'subscriber "ada" already exists'],
    [['invoices', 'show', 'INV-nope'], 'invoice "INV-nope" does not exist'],
    [['usage', 'import', path.join(workDir, 'missing.csv')], 'does not exist'],
    [['close', '--period', '2099-01'], '2099-01 is not over yet'],
    [['close', '--period', '0000-01'], '--period 0000-01 is before 2000-01, the first month a policy version is in effect'],
    [
      ['subscribers', 'add', '--id', 'early', '--email', 'early@example.test', '--since', '1970-01-01'],
      '--since 1970-01-01 is before 2000-01-01, when the first policy version took effect',
    ],
    [['invoices', 'list', '--subscriber', 'nobody'], 'subscriber "nobody" does not exist'],
    [['limit', 'request', '--subscriber', 'ada', '--minutes', '0', '--reason', 'more'], '--minutes 0 must be above the current limit of 2400 minutes'],
  ];
  for (const [args, message] of cases) {
    const result = await billing(...args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }
  // A process exits with that code and prints the same, for a flag's value and for a fact in the database.
  for (const [args] of [cases[0]!, cases[4]!]) {
    expect(await billingProcess(cliEnv, args)).toEqual(await billing(...args));
  }
});

test('a worker loads the prebuilt workflow bundle of its options, and refuses one built for others, naming both', async () => {
  // The worker of this file runs the workflows of the tests above from the test run's bundle (BILLING_WORKFLOW_BUNDLE).
  const bundle = process.env.BILLING_TEST_WORKFLOW_BUNDLE!;
  expect(workerLog).toContain(`workflows loaded from the prebuilt bundle ${bundle}`);
  // A worker with codec keys needs a bundle with the encrypting failure converter: it exits before connecting anywhere.
  const keys = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  const result = await billingProcess({ ...cliEnv, BILLING_WORKFLOW_BUNDLE: bundle, BILLING_CODEC_KEYS: keys }, ['worker'], 30_000);
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      new RegExp(
        `^billing: workflow bundle ${bundle} was built with encrypted=false tracing=false sdk=\\S+ but this worker runs with encrypted=true tracing=false sdk=\\S+; rebuild it with \`billing worker --build-bundle ${bundle} --encrypted\``,
      ),
    ),
  ]);
});

test('billing operations publish a policy revision, every active subscriber is told exactly once, and cancel it before the date', async () => {
  const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const subscribers = (await billingJson<{ email: string; status: string }[]>('subscribers', 'list'))
    .filter((s) => s.status === 'active')
    .map((s) => s.email)
    .sort();
  const eff = day(40);
  const mail = (subject: string): string[] =>
    smtp.received
      .filter((m) => m.subject === subject)
      .map((m) => m.to[0]!)
      .sort();

  const tooSoon = await billing('policy', 'publish', '--effective', day(10), '--included-minutes', '3000');
  expect(tooSoon.code).toBe(2);
  expect(tooSoon.stderr.trim()).toBe(`billing: --effective ${day(10)} is less than the 30-day notice period away: the earliest allowed date is ${day(30)}`);

  const published = await billing('policy', 'publish', '--effective', eff, '--included-minutes', '3000', '--overage-rate', '0.045', '--yes');
  expect(published.code).toBe(0);
  expect(published.stdout).toContain(`published policy version 2 (scheduled, effective ${eff}, replacing version 1); started policy-change-2`);
  expect(published.stdout).toContain('Overage rate: 0.05 USD a minute → 0.045 USD a minute');
  await waitUntil(() => mail(`Changes to the RedConnect Fair Usage Policy from ${eff}`).length === subscribers.length);
  expect(mail(`Changes to the RedConnect Fair Usage Policy from ${eff}`)).toEqual(subscribers);
  const followed = async (): Promise<string> => (await billing('policy', 'show', '2')).stdout;
  let shown = await followed();
  for (let i = 0; i < 50 && !shown.includes(`notices ${subscribers.length} sent`); i += 1) shown = await followed();
  expect(shown).toContain(`policy-change-2: scheduled; notices ${subscribers.length} sent, 0 pending, 0 failed`);
  expect(shown).toMatch(/Included minutes a month\s+2400 min\s+→\s+3000 min/);
  expect((await billing('policy', 'list')).stdout).toMatch(new RegExp(`2\\s+scheduled\\s+${eff}`));

  const cancelled = await billing('policy', 'cancel', '2', '--operator', 'kim', '--reason', 'Pricing review');
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toContain(`cancelled policy version 2; ${subscribers.length} subscriber(s) had the notice`);
  await waitUntil(() => mail(`Cancelled: the RedConnect Fair Usage Policy change planned for ${eff}`).length === subscribers.length);
  // The revision's workflow has ended, and its notice and cancellation to each subscriber are sent.
  expect(await env.client.workflow.getHandle('policy-change-2').result()).toMatchObject({ phase: 'cancelled' });
  await untilOutboxSent(db.pool, 'policy:2:%', 2 * subscribers.length);
  expect(mail(`Changes to the RedConnect Fair Usage Policy from ${eff}`)).toEqual(subscribers);
  expect(mail(`Cancelled: the RedConnect Fair Usage Policy change planned for ${eff}`)).toEqual(subscribers);
  expect((await billing('policy', 'list')).stdout).toMatch(/2\s+cancelled/);
  const again = await billing('policy', 'cancel', '2');
  expect(again.code).toBe(2);
  expect(again.stderr.trim()).toBe('billing: policy version 2 is already cancelled');
});

describe('output into a pipe', () => {
  // A real shell pipeline: the OS pipe holds 64 KiB, so a reader that pauses leaves the rest in the CLI.
  const pipeline = (command: string): Promise<Result> =>
    new Promise((resolve) => {
      execFile('/bin/sh', ['-c', command], { env: { ...cliEnv, NODE: process.execPath, BIN }, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });

  beforeAll(async () => {
    // Enough subscribers for a JSON list well past what a pipe holds (terminated: no later test mails them).
    await db.pool.query(`INSERT INTO subscribers (id, name, email, service_start, status)
      SELECT 'pipe-' || n, 'Subscriber number ' || n, 'pipe-' || n || '@example.test', '2026-01-01', 'terminated' FROM generate_series(1, 600) n`);
  });

  test('a reader that pauses before reading gets the whole output', async () => {
    const whole = await billing('subscribers', 'list', '--json');
    expect(whole.stdout.length).toBeGreaterThan(100_000);
    // The reader pauses once the first bytes are there, as a slow consumer would, then reads on.
    const reader = '"$NODE" -e "process.stdin.once(\'readable\', () => setTimeout(() => process.stdin.pipe(process.stdout), 1500))"';
    const slow = await pipeline(`"$NODE" "$BIN" subscribers list --json | ${reader}`);
    expect(slow.code).toBe(0);
    expect(slow.stdout.length).toBe(whole.stdout.length);
    expect(JSON.parse(slow.stdout)).toHaveLength(JSON.parse(whole.stdout).length);
  });

  test('a reader that stops early (`| head`) ends the output quietly: no EPIPE stack trace, exit 0', async () => {
    // `true` has gone before the CLI writes anything: its first write fails with EPIPE. `head` goes
    // after one line, while the table is still being written.
    for (const [args, reader] of [
      ['subscribers list --json', 'true'],
      ['subscribers list', 'true'],
      ['subscribers list', 'head -n 1 >/dev/null'],
    ]) {
      const result = await pipeline(`{ "$NODE" "$BIN" ${args}; echo "exit $?" >&2; } | ${reader}`);
      expect({ args, reader, stderr: result.stderr.trim() }).toEqual({ args, reader, stderr: 'exit 0' });
    }
  });
});
