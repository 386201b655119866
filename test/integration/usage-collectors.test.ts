/**
 * Collectors as Temporal workflows on a real dev server and PostgreSQL (issue 14, part 2): an
 * Asterisk cdr_pgsql table in a second database of the tests' PostgreSQL, read on the source's
 * schedule while rows are inserted (one of them committing late, before the watermark); the switch
 * database unreachable for a while (renamed away and back), ops alerted once; a spool folder with a
 * file written slowly, one under a .tmp name, a broken gzip and a file dropped twice. Every call
 * lands once; the failed ones are reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { addSource, getSource, type SourceSettings } from '../../db/usage-sources';
import type { CollectorSummary } from '../../workflows/messages';
import { asteriskFile, type AsteriskRowSpec } from '../helpers/asterisk-rows';
import { cliAgainst } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { recordHistory } from '../helpers/histories';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { callsFrom, createSwitchDatabase, insertCdrRows, type SwitchDatabase } from '../helpers/switch-db';
import { billingWorker, startDevServer, TEST_OPS_EMAIL } from '../helpers/temporal';
import { outboxRows, until, untilOutboxSent } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
const switches: SwitchDatabase[] = [];
const taskQueue = 'usage-collectors-test';
const cli = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue }));

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, collectLimits: { pageRows: 100, settleMs: 400 } });
  running = worker.run();
  await givenSubscriber(db.pool, { id: 'alice', numbers: ['+14155550101'], serviceStart: '2026-01-01' });
  await givenSubscriber(db.pool, { id: 'bob', numbers: ['+14155550102'], serviceStart: '2026-01-01' });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close(), ...switches.map((s) => s.drop())]);
});

async function recordsOf(source: string): Promise<number> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM cdr_records WHERE source = $1', [source]);
  return rows[0].n;
}

/** One run of a source's collector started by hand (the Schedule's runs are the same workflow). */
async function collectOnce(source: string, run: string, record?: string): Promise<CollectorSummary> {
  const handle = await env.client.workflow.start('usageCollectorWorkflow', { workflowId: `usage-collector-${source}-${run}`, taskQueue, args: [{ source }] });
  const result = (await handle.result()) as CollectorSummary;
  if (record) recordHistory(record, await handle.fetchHistory());
  return result;
}

const sourceSettings = (s: Partial<SourceSettings> & Pick<SourceSettings, 'name' | 'kind'>): SourceSettings => ({
  format: 'asterisk',
  timezone: 'UTC',
  country: null,
  voicemailNumbers: null,
  featureCodes: null,
  columns: null,
  dsn: null,
  table: null,
  dir: null,
  everySeconds: 300,
  safetyWindowSeconds: 3600,
  maxLagSeconds: 1800,
  alertAfterFailures: 3,
  ...s,
});

test('an asterisk-db source collects on its schedule while rows are inserted, a row committed late included: every call once', async () => {
  const pbx = await createSwitchDatabase();
  switches.push(pbx);
  const first = callsFrom('4155550101', '2026-09-01 08:00:00', 250, 'early');
  await insertCdrRows(pbx.pool, first);
  const added = await cli('sources', 'add', 'pbx', '--kind', 'asterisk-db', '--dsn', pbx.readerUrl, '--table', 'cdr', '--timezone', 'UTC', '--every', '10s');
  expect(added.code).toBe(0);
  expect(added.stdout).not.toContain('s3cret-PASS');
  // Inserted while the schedule's runs read: later calls, and one that started before the rows
  // already read but is written only now (a long call ends after them).
  for (let batch = 0; batch < 5; batch += 1) {
    await insertCdrRows(pbx.pool, callsFrom('4155550102', `2026-09-02 0${batch}:00:00`, 50, `later-${batch}`));
    await until(
      () => recordsOf('pbx'),
      (n) => n > 0,
      60_000,
    );
  }
  await until(
    () => recordsOf('pbx'),
    (n) => n === 500,
    90_000,
  );
  const { watermark } = (await until(
    () => getSource(db.pool, 'pbx'),
    (s) => s!.watermark === '2026-09-02 04:49:00',
    60_000,
  ))!;
  // Started 10 minutes before the last row read, written only now: within the safety window (1 h).
  const lateStart = new Date(Date.parse(`${watermark!.replace(' ', 'T')}Z`) - 600_000).toISOString().slice(0, 19).replace('T', ' ');
  await insertCdrRows(pbx.pool, [{ calldate: lateStart, src: '4155550101', dst: '33142000000', billsec: 500, uniqueid: 'late-commit' }]);
  await until(
    () => recordsOf('pbx'),
    (n) => n === 501,
    90_000,
  );
  // Every run after that reads the safety window again: it adds nothing.
  await until(
    () => getSource(db.pool, 'pbx'),
    (s) => s!.lastRunAt !== null && s!.duplicates > 0,
    60_000,
  );
  expect(await recordsOf('pbx')).toBe(501);
  const { rows: calls } = await db.pool.query(
    `SELECT subscriber_id, count(*)::int AS n, count(DISTINCT record_key)::int AS keys FROM calls WHERE record_key IN (SELECT record_key FROM cdr_records WHERE source = 'pbx') GROUP BY 1 ORDER BY 1`,
  );
  expect(calls).toEqual([
    { subscriber_id: 'alice', n: 251, keys: 251 },
    { subscriber_id: 'bob', n: 250, keys: 250 },
  ]);

  const shown = JSON.parse((await cli('sources', 'show', 'pbx', '--json')).stdout);
  expect(shown).toMatchObject({ lastRecordAt: '2026-09-02T04:49:00.000Z', consecutiveFailures: 0, rowsRejected: 0 });
  expect(shown.rowsCollected).toBeGreaterThanOrEqual(501);
  expect(shown.lagSeconds).toBeLessThan(120);
  const text = (await cli('sources', 'show', 'pbx')).stdout;
  expect(text).toContain('last record:    2026-09-02T04:49:00.000Z');
  expect(text).not.toContain('s3cret-PASS');

  // The runs are found by the source's search attribute, with its health.
  const runs = await until(
    async () => {
      const found = [];
      for await (const w of env.client.workflow.list({ query: 'UsageSource = "pbx" AND ExecutionStatus = "Completed" AND RowsCollected >= 501' })) found.push(w);
      return found;
    },
    (found) => found.length > 0,
    60_000,
  );
  const attributes = runs[0]!.typedSearchAttributes;
  expect(attributes.getAll().map((p) => p.key.name)).toEqual(expect.arrayContaining(['CollectorLagSeconds', 'LastRecordTime', 'RowsCollected', 'RowsRejected', 'UsageSource']));
  // No personal data in them: the source's name and numbers, never a caller's number.
  expect(JSON.stringify(attributes.getAll())).not.toContain('415555');
  expect(JSON.stringify(await env.client.workflow.getHandle(runs[0]!.workflowId, runs[0]!.runId).fetchHistory())).not.toContain('s3cret-PASS');

  expect((await cli('sources', 'pause', 'pbx')).code).toBe(0);
  expect((await env.client.schedule.getHandle('usage-collector-pbx').describe()).state.paused).toBe(true);
});

test('the switch database unreachable for a while: each run fails and is recorded, ops alerted once, then it catches up', async () => {
  const pbx = await createSwitchDatabase();
  switches.push(pbx);
  await addSource(db.pool, sourceSettings({ name: 'pbx-down', kind: 'asterisk-db', dsn: pbx.readerUrl, table: 'cdr', alertAfterFailures: 2 }));
  await insertCdrRows(pbx.pool, callsFrom('4155550101', '2026-09-10 08:00:00', 120, 'before'));
  expect((await collectOnce('pbx-down', '1')).rows).toBe(120);

  await pbx.takeAway();
  const down1 = await collectOnce('pbx-down', '2');
  expect(down1.failed).toContain('cannot be reached');
  expect(down1.failed).not.toContain('s3cret-PASS');
  expect(down1.health).toMatchObject({ consecutiveFailures: 1, alertKey: null });
  const down2 = await collectOnce('pbx-down', '3', 'usage-collector-switch-down-alerted');
  expect(down2.health).toMatchObject({ consecutiveFailures: 2, alertKey: 'usage-source-alert:pbx-down:1' });
  const down3 = await collectOnce('pbx-down', '4');
  expect(down3.health).toMatchObject({ consecutiveFailures: 3, alertKey: 'usage-source-alert:pbx-down:1' });
  const [alert] = await untilOutboxSent(db.pool, 'usage-source-alert:pbx-down:%', 1);
  expect(alert).toMatchObject({ to: TEST_OPS_EMAIL, subject: 'Usage source pbx-down needs attention' });
  expect(smtp.received.filter((m) => m.subject === 'Usage source pbx-down needs attention')).toHaveLength(1);
  expect(JSON.parse((await cli('sources', 'show', 'pbx-down', '--json')).stdout)).toMatchObject({ consecutiveFailures: 3, alerted: true });

  await pbx.bringBack();
  await insertCdrRows(pbx.pool, callsFrom('4155550102', '2026-09-10 12:00:00', 130, 'while-down'));
  const back = await collectOnce('pbx-down', '5', 'usage-collector-switch-back');
  // The 130 new rows, and the last hour before the watermark read again (the safety window): already in.
  expect(back).toMatchObject({ failed: null, health: { consecutiveFailures: 0, alertKey: null } });
  expect(back.rows - back.duplicates).toBe(130);
  expect(back.duplicates).toBe(61);
  expect(await recordsOf('pbx-down')).toBe(250);
  expect(await outboxRows(db.pool, 'usage-source-alert:pbx-down:%')).toHaveLength(1);
});

test('a source behind by more than its max lag (its switch on a port where nothing listens) alerts ops once, with why', async () => {
  await addSource(
    db.pool,
    sourceSettings({
      name: 'pbx-behind',
      kind: 'asterisk-db',
      dsn: 'postgres://reader:s3cret-PASS@127.0.0.1:1/asterisk',
      table: 'cdr',
      maxLagSeconds: 600,
      alertAfterFailures: 10,
    }),
  );
  // Added an hour ago and never caught up since.
  await db.pool.query(`UPDATE usage_sources SET created_at = now() - interval '1 hour' WHERE name = 'pbx-behind'`);
  const run = await collectOnce('pbx-behind', '1');
  expect(run.failed).toContain('127.0.0.1:1');
  expect(run.failed).not.toContain('s3cret-PASS');
  expect(run.health).toMatchObject({ consecutiveFailures: 1, alertKey: 'usage-source-alert:pbx-behind:1' });
  expect(run.health.lagSeconds).toBeGreaterThanOrEqual(3600);
  await untilOutboxSent(db.pool, 'usage-source-alert:pbx-behind:%', 1);
  const mail = smtp.received.find((m) => m.subject === 'Usage source pbx-behind needs attention')!;
  expect(mail.text).toContain('min behind (more than 10 min)');
  expect(mail.text).not.toContain('s3cret-PASS');
});

test('a spool folder: a file written slowly, one under a .tmp name, a broken gzip, a file dropped twice; every call once, the failed one reported', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-spool-'));
  await addSource(db.pool, sourceSettings({ name: 'fs-spool', kind: 'spool', dir }));
  const rows = (prefix: string, count: number, hour: number): AsteriskRowSpec[] =>
    Array.from({ length: count }, (_, n) => ({
      src: '4155550101',
      dst: '33142000000',
      start: `2026-09-20 ${String(hour).padStart(2, '0')}:${String(n).padStart(2, '0')}:00`,
      billsec: 30 + n,
      uniqueid: `${prefix}-${n}`,
    }));
  fs.writeFileSync(path.join(dir, 'a.csv'), asteriskFile(rows('a', 10, 8)));
  fs.writeFileSync(path.join(dir, 'b.csv.tmp'), asteriskFile(rows('b', 10, 9)));
  const broken = zlib.gzipSync(asteriskFile(rows('broken', 40, 10)));
  fs.writeFileSync(path.join(dir, 'broken.csv.gz'), broken.subarray(0, Math.floor(broken.length / 2)));
  // Written a line at a time all through the first run.
  const slowLines = asteriskFile(rows('slow', 20, 11))
    .split('\n')
    .filter((l) => l !== '');
  const slow = fs.openSync(path.join(dir, 'slow.csv'), 'w');
  let written = 0;
  fs.writeSync(slow, `${slowLines[written++]}\n`);
  const firstRun = collectOnce('fs-spool', '1');
  let runDone = false;
  void firstRun.finally(() => {
    runDone = true;
  });
  while (!runDone) {
    if (written < slowLines.length - 1) fs.writeSync(slow, `${slowLines[written++]}\n`);
    else fs.writeSync(slow, ''); // keeps the last line back until the run is over
    fs.futimesSync(slow, new Date(), new Date());
    await new Promise((r) => setTimeout(r, 100));
  }
  const first = await firstRun;
  expect(first.filesDone).toBe(1); // a.csv only: slow.csv was still being written, b.csv.tmp is not read
  expect(first.failedFiles).toEqual([{ file: 'broken.csv.gz', reason: expect.stringContaining('is not a whole gzip file') }]);
  expect(fs.readFileSync(path.join(dir, 'failed', 'broken.csv.gz.error.txt'), 'utf8')).toContain('is not a whole gzip file');
  expect(fs.existsSync(path.join(dir, 'slow.csv'))).toBe(true);

  for (; written < slowLines.length; written += 1) fs.writeSync(slow, `${slowLines[written]}\n`);
  fs.closeSync(slow);
  fs.renameSync(path.join(dir, 'b.csv.tmp'), path.join(dir, 'b.csv'));
  fs.copyFileSync(path.join(dir, 'done', 'a.csv'), path.join(dir, 'a.csv')); // dropped twice
  const second = await collectOnce('fs-spool', '2', 'usage-collector-spool');
  expect(second).toMatchObject({ filesDone: 3, filesFailed: 0, duplicates: 10 });
  expect(fs.readdirSync(path.join(dir, 'done')).sort()).toEqual(['a.csv', 'a.csv.2', 'b.csv', 'slow.csv']);
  expect(fs.readdirSync(dir).filter((f) => !['done', 'failed', 'rejects'].includes(f))).toEqual([]);

  // a, b and slow once each (10 + 10 + 20); nothing of the broken gzip (its one batch never committed).
  expect(await recordsOf('fs-spool')).toBe(40);
  const source = (await getSource(db.pool, 'fs-spool'))!;
  expect(source).toMatchObject({ filesDone: 4, filesFailed: 1, rowsRejected: 0 });
  expect(source.lastError).toContain('broken.csv.gz');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a spool of FreeSWITCH mod_json_cdr documents, one call a file: each decided alone, a document cut short to failed/', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-json-spool-'));
  await addSource(db.pool, sourceSettings({ name: 'fs-json', kind: 'spool', format: 'freeswitch-json', dir }));
  const fixtures = path.resolve(__dirname, '../fixtures/cdr');
  const documents = ['answered', 'unanswered', 'answered-b-leg', 'vm-legs-a-a-leg', 'vm-legs-a-loopback-b', 'broken-truncated'];
  for (const name of documents) fs.copyFileSync(path.join(fixtures, `freeswitch-json-${name}.cdr.json`), path.join(dir, `${name}.cdr.json`));
  const run = await collectOnce('fs-json', '1');
  expect(run).toMatchObject({ filesDone: 5, filesFailed: 1, rejected: 1 });
  expect(run.failedFiles).toEqual([{ file: 'broken-truncated.cdr.json', reason: expect.stringContaining('no row of it could be read') }]);
  expect(fs.readdirSync(path.join(dir, 'failed')).sort()).toEqual(['broken-truncated.cdr.json', 'broken-truncated.cdr.json.error.txt']);
  const { rows } = await db.pool.query(`SELECT counted, not_counted_reason AS reason FROM cdr_records WHERE source = 'fs-json' ORDER BY counted DESC, not_counted_reason`);
  expect(rows.filter((r) => r.counted)).toHaveLength(1);
  expect(rows).toHaveLength(5);
  fs.rmSync(dir, { recursive: true, force: true });
});
