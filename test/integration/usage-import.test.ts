/**
 * Usage import on a real PostgreSQL: every counted second on the right subscriber's month exactly
 * once, whatever is imported twice, at the same time, or interrupted; nothing lost.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Client } from 'pg';
import { rematchUnmatched } from '../../db/rematch';
import { queueUsageAlerts } from '../../db/usage-alerts';
import { periodOf } from '../../billing/periods';
import { createLimitRequest, grantLimit } from '../../db/limit-requests';
import { ImportInputError, importUsageFile } from '../../db/usage-import';
import { createPool } from '../../db/pool';
import { insertSubscriber } from '../../db/subscribers';
import { asteriskFile, type AsteriskRowSpec } from '../helpers/asterisk-rows';
import { billingIn, BIN, type CliResult } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';

let db: TestDatabase;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-import-'));

beforeAll(async () => {
  db = await createTestDatabase();
  await givenSubscriber(db.pool, { id: 'ana', numbers: ['+12125550001'], timezone: 'America/New_York' });
  await givenSubscriber(db.pool, { id: 'ben', numbers: ['+12125550002'] });
  await givenSubscriber(db.pool, { id: 'cat', numbers: ['+12125550003'], accountCode: 'ACME-7' });
});

afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, rows: AsteriskRowSpec[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, asteriskFile(rows));
  return file;
}

const outbound = (n: number, src: string, start: string, billsec: number): AsteriskRowSpec => ({
  src,
  dst: `9120255500${String(n).padStart(2, '0')}`,
  start,
  billsec,
  uniqueid: `1790000000.${n}`,
});

async function seconds(subscriberId: string, period: string): Promise<{ counted: number; calls: number }> {
  const { rows } = await db.pool.query(
    `SELECT coalesce(sum(billable_seconds) FILTER (WHERE counted), 0)::int AS counted, count(*)::int AS calls
       FROM calls WHERE subscriber_id = $1 AND period = $2`,
    [subscriberId, period],
  );
  return rows[0];
}

test('a row repeated within one file lands once, in the same batch or a later one', async () => {
  const rows = Array.from({ length: 5 }, (_, i) => outbound(40 + i, '+12125550002', `2026-07-0${1 + i} 09:00:00`, 100 + i));
  // batches of 3: the first repeat falls in the batch of its original, the second in a later one
  const file = write('repeats.csv', [rows[0]!, rows[1]!, rows[0]!, rows[2]!, rows[3]!, rows[1]!, rows[4]!]);
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-repeats', batchSize: 3 });
  expect(summary).toMatchObject({ rowsRead: 7, records: 7, duplicates: 2, rejected: 0 });
  expect(await seconds('ben', '2026-07')).toEqual({ counted: rows.reduce((s, r) => s + r.billsec, 0), calls: 5 });
});

test('importing the same file twice, or an overlapping file, adds nothing the second time', async () => {
  const rows = Array.from({ length: 10 }, (_, i) => outbound(i, '+12125550002', `2026-08-0${1 + (i % 9)} 10:00:00`, 60 + i));
  const first = await importUsageFile(db.pool, { file: write('a.csv', rows.slice(0, 6)), timezone: 'UTC', source: 'pbx-1' });
  expect(first).toMatchObject({ format: 'asterisk', rowsRead: 6, counted: 6, duplicates: 0, rejected: 0 });
  const again = await importUsageFile(db.pool, { file: write('a-again.csv', rows.slice(0, 6)), timezone: 'UTC', source: 'pbx-1' });
  expect(again).toMatchObject({ rowsRead: 6, duplicates: 6 });
  const overlapping = await importUsageFile(db.pool, { file: write('b.csv', rows.slice(3)), timezone: 'UTC', source: 'pbx-1' });
  expect(overlapping).toMatchObject({ rowsRead: 7, duplicates: 3 });
  expect(await seconds('ben', '2026-08')).toEqual({ counted: rows.reduce((s, r) => s + r.billsec, 0), calls: 10 });
});

test('two imports of overlapping files at the same time land each row once', async () => {
  const rows = Array.from({ length: 3000 }, (_, i) =>
    outbound(100 + i, '+12125550003', `2026-07-${String(1 + (i % 28)).padStart(2, '0')} 0${i % 10}:${String(i % 60).padStart(2, '0')}:00`, 30),
  );
  const left = write('left.csv', rows.slice(0, 2000));
  const right = write('right.csv', rows.slice(1000));
  const [a, b] = await Promise.all([
    importUsageFile(db.pool, { file: left, timezone: 'UTC', source: 'pbx-2', batchSize: 250 }),
    importUsageFile(db.pool, { file: right, timezone: 'UTC', source: 'pbx-2', batchSize: 250 }),
  ]);
  expect(a.rowsRead - a.duplicates + (b.rowsRead - b.duplicates)).toBe(3000);
  expect(await seconds('cat', '2026-07')).toEqual({ counted: 3000 * 30, calls: 3000 });
});

test('an import whose database connection is lost leaves whole batches, and running it again completes it', async () => {
  const rows = Array.from({ length: 2000 }, (_, i) =>
    outbound(10_000 + i, '+12125550002', `2026-06-${String(1 + (i % 28)).padStart(2, '0')} 12:${String(i % 60).padStart(2, '0')}:${String(i % 59).padStart(2, '0')}`, 10),
  );
  const file = write('interrupted.csv', rows);
  let batches = 0;
  const cut = importUsageFile(db.pool, {
    file,
    timezone: 'UTC',
    source: 'pbx-3',
    batchSize: 300,
    onProgress: async () => {
      batches += 1;
      if (batches === 3) await terminateOtherConnections();
    },
  });
  await expect(cut).rejects.toThrow();
  // Running it again is a new process with new connections.
  const again = createPool(db.url);
  try {
    const {
      rows: [landed],
    } = await again.query("SELECT count(*)::int AS n FROM cdr_records WHERE source = 'pbx-3'");
    expect(landed.n % 300).toBe(0);
    expect(landed.n).toBeLessThan(2000);
    const rerun = await importUsageFile(again, { file, timezone: 'UTC', source: 'pbx-3', batchSize: 300 });
    expect(rerun).toMatchObject({ rowsRead: 2000, duplicates: landed.n });
  } finally {
    await again.end();
  }
  expect(await seconds('ben', '2026-06')).toEqual({ counted: 2000 * 10, calls: 2000 });
});

test("a call between two subscribers counts for both; a call across midnight at month end is split in the subscriber's zone", async () => {
  const file = write('internal.csv', [
    // ana (New York) calls ben (UTC) on 2026-05-31 at 23:50 New York time, 20 minutes: the switch writes local time.
    {
      src: '+12125550001',
      dst: '+12125550002',
      start: '2026-05-31 23:50:00',
      ring: 0,
      billsec: 1200,
      uniqueid: '1780000000.1',
      channel: 'PJSIP/1001-0000000a',
      dstchannel: 'PJSIP/1002-0000000b',
    },
  ]);
  const summary = await importUsageFile(db.pool, { file, timezone: 'America/New_York', source: 'pbx-4' });
  expect(summary).toMatchObject({ counted: 1, unmatched: 0 });
  // ana: 600 s in May and 600 s in June, New York time; ben (UTC) has it all in June (03:50-04:10 UTC).
  expect(await seconds('ana', '2026-05')).toEqual({ counted: 600, calls: 1 });
  expect(await seconds('ana', '2026-06')).toEqual({ counted: 600, calls: 1 });
  const { rows } = await db.pool.query(
    `SELECT c.subscriber_id, c.direction, c.period, c.billable_seconds FROM calls c JOIN cdr_records r USING (record_key) WHERE r.source = 'pbx-4' ORDER BY 1, 3`,
  );
  expect(rows).toEqual([
    { subscriber_id: 'ana', direction: 'outgoing', period: '2026-05', billable_seconds: 600 },
    { subscriber_id: 'ana', direction: 'outgoing', period: '2026-06', billable_seconds: 600 },
    { subscriber_id: 'ben', direction: 'incoming', period: '2026-06', billable_seconds: 1200 },
  ]);
});

test('the account code names the caller before the calling number does', async () => {
  const file = write('accountcode.csv', [{ accountcode: 'ACME-7', src: '+12125550001', dst: '912025550199', start: '2026-04-02 10:00:00', billsec: 90, uniqueid: '1770000000.1' }]);
  await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-5' });
  expect(await seconds('cat', '2026-04')).toEqual({ counted: 90, calls: 1 });
  expect(await seconds('ana', '2026-04')).toEqual({ counted: 0, calls: 0 });
});

test('rows that match nobody are kept and attributed when the number is registered later', async () => {
  const file = write('unmatched.csv', [
    { src: '+14155550123', dst: '912025550111', start: '2026-03-03 09:00:00', billsec: 300, uniqueid: '1760000000.1' },
    { src: '+14155550123', dst: '912025550112', start: '2026-03-04 09:00:00', billsec: 200, uniqueid: '1760000000.2' },
  ]);
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-6' });
  expect(summary).toMatchObject({ rowsRead: 2, counted: 2, unmatched: 2, unmatchedNumbers: [{ number: '+14155550123', records: 2 }] });
  await insertSubscriber(db.pool, {
    id: 'dan',
    email: 'dan@example.test',
    timezone: 'UTC',
    business: false,
    monthlyFeeCents: 0,
    serviceStart: '2026-01-01',
    numbers: ['+14155550123'],
  });
  const rematch = await rematchUnmatched(db.pool);
  expect(rematch).toMatchObject({ attributed: 2, stillUnmatched: 0 });
  expect(await seconds('dan', '2026-03')).toEqual({ counted: 500, calls: 2 });
  // A second rematch finds nothing left to do.
  expect(await rematchUnmatched(db.pool)).toMatchObject({ examined: 0, attributed: 0 });
});

test('rows for a month already invoiced are kept and marked late', async () => {
  await db.pool
    .query(`INSERT INTO invoices (id, number, issue_date, due_date, subscriber_id, period, policy_version, currency, calls, used_seconds, allowance_seconds, overage_minutes, overage_rate_micros, total_cents)
                       VALUES ('INV-2026-02-ben', 'RC-2026-000001', '2026-03-01', '2026-03-15', 'ben', '2026-02', 1, 'USD', 0, 0, 144000, 0, 50000, 0)`);
  const file = write('late.csv', [outbound(90, '+12125550002', '2026-02-20 10:00:00', 120), outbound(91, '+12125550002', '2026-03-01 10:00:00', 60)]);
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-7' });
  expect(summary.late).toBe(1);
  const { rows } = await db.pool.query(`SELECT period, late FROM calls WHERE subscriber_id = 'ben' AND period IN ('2026-02', '2026-03') ORDER BY period`);
  expect(rows).toEqual([
    { period: '2026-02', late: true },
    { period: '2026-03', late: false },
  ]);
});

test('bad rows go to the rejects file with line and reason while the good rows land', async () => {
  const good = asteriskFile([outbound(200, '+12125550002', '2026-01-10 10:00:00', 42)]).trimEnd();
  const file = path.join(dir, 'bad.csv');
  fs.writeFileSync(
    file,
    [
      good,
      '"","+12125550002","9120","ctx","clid","SIP/a","SIP/b","Dial","x","2026-01-10 10:00:00","2026-01-10 10:00:05"', // 11 columns
      good.replace('"2026-01-10 10:00:00"', '"2026-01-10 25:00:00"').replace('1790000000.200', '1790000000.201'),
      good.replace(',47,42,', ',47,-3,').replace('1790000000.200', '1790000000.202'),
    ].join('\n') + '\n',
  );
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-8' });
  expect(summary).toMatchObject({ rowsRead: 4, counted: 1, rejected: 3 });
  const rejects = fs.readFileSync(summary.rejectsFile!, 'utf8').trim().split('\n');
  expect(rejects[0]).toBe('line,reason,row');
  expect(rejects.slice(1).map((l) => l.split(',')[0])).toEqual(['2', '3', '4']);
  expect(rejects[1]).toContain('wrong number of columns');
  expect(rejects[2]).toContain('2026-01-10 25:00:00');
});

/** `billing usage import FILE ARGS...` in-process against this file's database (Temporal unreachable: old records make no alerts due). */
function cliImport(file: string, ...args: string[]): Promise<CliResult> {
  return billingIn({ PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, TEMPORAL_ADDRESS: '127.0.0.1:1' }, ['usage', 'import', file, ...args]);
}

test('the same calls under another file name import once: a record is its switch and its content, not its file', async () => {
  const rows = Array.from({ length: 20 }, (_, i) => outbound(500 + i, '+12125550002', `2025-09-${String(1 + i).padStart(2, '0')} 08:00:00`, 61 + i));
  const master = write('Master.csv', rows.slice(0, 15));
  const copy = write('Master-copy.csv', rows.slice(5));
  const first = await cliImport(master, '--json');
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ source: 'default', rowsRead: 15, duplicates: 0 });
  const second = await cliImport(copy, '--json');
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ source: 'default', rowsRead: 15, duplicates: 10 });
  expect(await seconds('ben', '2025-09')).toEqual({ counted: rows.reduce((s, r) => s + r.billsec, 0), calls: 20 });
  // usage_imports keeps which file each import read.
  const { rows: imports } = await db.pool.query(`SELECT file FROM usage_imports WHERE source = 'default' ORDER BY id`);
  expect(imports.map((r) => path.basename(r.file))).toEqual(['Master.csv', 'Master-copy.csv']);
  // Two switches that write identical rows are told apart by their own --source.
  const other = await cliImport(master, '--source', 'pbx-east', '--json');
  expect(JSON.parse(other.stdout)).toMatchObject({ source: 'pbx-east', rowsRead: 15, duplicates: 0 });
});

test('calls dated before 2000 or more than a day ahead are rejected with line and reason, never stored (year 0001 is not 1901)', async () => {
  const file = write('impossible-dates.csv', [
    outbound(600, '+12125550002', '2025-10-10 10:00:00', 60),
    outbound(601, '+12125550002', '0001-01-01 00:00:00', 61),
    outbound(602, '+12125550002', '1969-07-20 20:17:00', 62),
    outbound(603, '+12125550002', '2099-01-01 00:00:00', 63),
    outbound(604, '+12125550002', '9999-06-01 00:00:00', 64),
  ]);
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-dates' });
  expect(summary).toMatchObject({ rowsRead: 5, records: 1, counted: 1, rejected: 4 });
  const rejects = fs.readFileSync(summary.rejectsFile!, 'utf8').trim().split('\n').slice(1);
  expect(rejects.map((l) => l.split(',')[0])).toEqual(['2', '3', '4', '5']);
  expect(rejects[0]).toContain('start 0001-01-01 00:00:00 UTC is before 2000-01-01');
  expect(rejects[3]).toContain('start 9999-06-01 00:00:00 UTC is more than 24 h after the import');
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM cdr_records WHERE source = 'pbx-dates'`);
  expect(rows[0].n).toBe(1);
  // Both bounds are settings: a switch known to have run since 2025-11 only.
  const narrower = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-dates-2', callDates: { earliestDay: '2025-11-01', maxFutureHours: 24 } });
  expect(narrower).toMatchObject({ records: 0, rejected: 5 });
});

test('an import of this month with Temporal unreachable commits, and exits 1 saying how to hand its alerts over later', async () => {
  const file = write('this-month.csv', [outbound(650, '+12125550002', `${periodOf(Date.now(), 'UTC')}-01 00:00:00`, 60)]);
  const result = await cliImport(file, '--json');
  expect(result.code).toBe(1);
  const { importId } = JSON.parse(result.stdout) as { importId: number };
  expect(JSON.parse(result.stdout)).toMatchObject({
    rowsRead: 1,
    counted: 1,
    alerts: `usage alerts not handed over: see the last line (\`billing usage alerts ${importId}\` hands them over)`,
  });
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr.trim()).toMatch(
    new RegExp(
      `^billing: import ${importId} is committed \\(do not import .*this-month\\.csv again\\), but its usage alerts are not handed over: ` +
        `cannot reach Temporal at 127\\.0\\.0\\.1:1 .*Once Temporal and a billing worker are up, run \`billing usage alerts ${importId}\`$`,
    ),
  );
  expect((await db.pool.query(`SELECT finished_at IS NOT NULL AS finished FROM usage_imports WHERE id = $1`, [importId])).rows).toEqual([{ finished: true }]);
  expect(await seconds('ben', periodOf(Date.now(), 'UTC'))).toEqual({ counted: 60, calls: 1 });
});

test('a truncated gzip says how many records it committed, and the whole file imported again adds the rest', async () => {
  const rows = Array.from({ length: 20_000 }, (_, i) =>
    outbound(
      700_000 + i,
      '+12125550003',
      `2025-08-${String(1 + (i % 28)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}`,
      1 + (i % 40),
    ),
  );
  const whole = zlib.gzipSync(asteriskFile(rows));
  const file = path.join(dir, 'Master-truncated.csv.gz');
  fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const count = async (): Promise<number> => (await db.pool.query("SELECT count(*)::int AS n FROM cdr_records WHERE source = 'pbx-gz'")).rows[0].n;

  const cut = importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-gz', batchSize: 1000 });
  await expect(cut).rejects.toBeInstanceOf(ImportInputError);
  const message = await cut.catch((error: Error) => error.message);
  const committed = await count();
  expect(committed).toBeGreaterThan(0);
  expect(committed).toBeLessThan(20_000);
  expect(message).toContain(
    `Master-truncated.csv.gz is not a whole gzip file (unexpected end of file): the first ${committed} call records of it are imported and committed; run the import again with the whole file to add the rest`,
  );

  fs.writeFileSync(file, whole);
  const rerun = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-gz', batchSize: 1000 });
  expect(rerun).toMatchObject({ rowsRead: 20_000, duplicates: committed });
  expect(await count()).toBe(20_000);
});

async function terminateOtherConnections(): Promise<void> {
  const admin = new Client({ connectionString: db.url });
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  await admin.end();
}

describe('switch files as they are', () => {
  const fixture = (name: string): string => path.join(__dirname, '..', 'fixtures', 'cdr', name);

  beforeAll(async () => {
    // Phones 1001 and 1002 belong to two subscribers; everything else is the outside world.
    await givenSubscriber(db.pool, { id: 'ext1001', numbers: ['1001'] });
    await givenSubscriber(db.pool, { id: 'ext1002', numbers: ['1002'] });
  });

  test('an Asterisk file through Local/ channels, gzipped, counts each call once', async () => {
    const file = path.join(dir, 'Master.csv.gz');
    fs.writeFileSync(file, zlib.gzipSync(fs.readFileSync(fixture('asterisk-local-channels.csv'))));
    const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-local' });
    expect(summary).toMatchObject({
      format: 'asterisk',
      rowsRead: 7,
      counted: 3,
      rejected: 0,
      notCounted: { 'local-channel-duplicate': 3, unanswered: 1 },
    });
    // 1001's and 1002's dialled calls are theirs; the originated reminder call matches nobody.
    expect(summary.unmatched).toBe(3);
  });

  test('a FreeSWITCH deposit A-leg and its loopback leg are kept as voicemail, in either order', async () => {
    const summary = await importUsageFile(db.pool, { file: fixture('freeswitch-voicemail-deposit.csv'), timezone: 'UTC', source: 'fs-1' });
    expect(summary).toMatchObject({ format: 'freeswitch', counted: 1, notCounted: { 'voicemail-deposit': 4 } });
    const { rows } = await db.pool.query(
      `SELECT c.subscriber_id, c.direction, c.counted, c.not_counted_reason FROM calls c JOIN cdr_records r USING (record_key)
        WHERE r.source = 'fs-1' ORDER BY c.subscriber_id, c.direction, c.counted`,
    );
    // 1001 → 1002 (240 s) counts for both; 1000's deposit into 1001's box is kept for 1001, not counted.
    expect(rows).toEqual(
      expect.arrayContaining([
        { subscriber_id: 'ext1001', direction: 'outgoing', counted: true, not_counted_reason: null },
        { subscriber_id: 'ext1002', direction: 'incoming', counted: true, not_counted_reason: null },
        { subscriber_id: 'ext1001', direction: 'incoming', counted: false, not_counted_reason: 'voicemail-deposit' },
      ]),
    );
  });

  test('a FreeSWITCH file written with legs=ab bills each bridged call once: the B-leg is kept, not counted', async () => {
    const summary = await importUsageFile(db.pool, { file: fixture('freeswitch-legs-ab.csv'), timezone: 'UTC', source: 'fs-ab' });
    expect(summary).toMatchObject({ format: 'freeswitch', rowsRead: 12, counted: 3, notCounted: { 'b-leg': 3, unanswered: 3, 'voicemail-deposit': 3 } });
    const { rows } = await db.pool.query(
      `SELECT c.subscriber_id, c.direction, SUM(c.billable_seconds)::int AS seconds FROM calls c JOIN cdr_records r USING (record_key)
        WHERE r.source = 'fs-ab' AND c.counted AND c.subscriber_id IN ('ext1001', 'ext1002') GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // 1000 → 1001 (300 s) and a trunk caller → 1001 (120 s) once each; 1002's call out (600 s) once.
    expect(rows).toEqual([
      { subscriber_id: 'ext1001', direction: 'incoming', seconds: 420 },
      { subscriber_id: 'ext1002', direction: 'outgoing', seconds: 600 },
    ]);
  });

  test('FreeSWITCH mod_json_cdr documents, one a line, are told by their content and each leg is decided alone', async () => {
    // `cat *.cdr.json > calls.jsonl`: each file is one line; the one cut short has no newline of its own.
    const legs = [
      'answered',
      'answered-b-leg',
      'unanswered',
      'vm-legs-a-a-leg',
      'vm-legs-a-loopback-b',
      'vm-legs-ab-loopback-b',
      'vm-legs-ab-loopback-a',
      'vm-legs-ab-a-leg',
      'broken-truncated',
    ];
    const file = path.join(dir, 'calls.jsonl');
    fs.writeFileSync(file, legs.map((leg) => fs.readFileSync(fixture(`freeswitch-json-${leg}.cdr.json`), 'utf8').trimEnd() + '\n').join(''));
    const rejectsFile = path.join(dir, 'calls.rejects.csv');
    const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'fs-json', rejectsFile });
    expect(summary).toMatchObject({
      format: 'freeswitch-json',
      rowsRead: 9,
      records: 8,
      counted: 1,
      rejected: 1,
      notCounted: { 'b-leg': 1, unanswered: 1, 'voicemail-deposit': 5 },
    });
    expect(fs.readFileSync(rejectsFile, 'utf8')).toMatch(/^line,reason,row\n9,"?not a JSON document \(/);
    const { rows } = await db.pool.query(
      `SELECT c.subscriber_id, c.direction, c.billable_seconds, c.counted, c.not_counted_reason FROM calls c JOIN cdr_records r USING (record_key)
        WHERE r.source = 'fs-json' ORDER BY c.subscriber_id, c.counted, c.not_counted_reason`,
    );
    // The trunk call to 1001 counts once for each party (its B-leg is kept, not counted): dan, registered by an earlier
    // test with the trunk caller's number, once as outgoing; the deposits are kept for the boxes' owners.
    expect(rows.filter((row) => row.counted)).toEqual([
      { subscriber_id: 'dan', direction: 'outgoing', billable_seconds: 300, counted: true, not_counted_reason: null },
      { subscriber_id: 'ext1001', direction: 'incoming', billable_seconds: 300, counted: true, not_counted_reason: null },
    ]);
    expect(rows).toEqual(
      expect.arrayContaining([
        { subscriber_id: 'ext1001', direction: 'incoming', billable_seconds: 300, counted: false, not_counted_reason: 'b-leg' },
        { subscriber_id: 'ext1002', direction: 'incoming', billable_seconds: 45, counted: false, not_counted_reason: 'voicemail-deposit' },
      ]),
    );
    const again = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'fs-json', rejectsFile });
    expect(again).toMatchObject({ records: 8, duplicates: 8 });
  });

  test('a file whose format cannot be told is refused with what was seen', async () => {
    const file = path.join(dir, 'mystery.txt');
    fs.writeFileSync(file, 'a,b,c\n1,2,3\n');
    await expect(importUsageFile(db.pool, { file, timezone: 'UTC', source: 'x' })).rejects.toThrow(/mystery\.txt: .*--format/);
  });
});

test('an import killed half way leaves whole batches, and running it again completes it', async () => {
  const rows = Array.from({ length: 60_000 }, (_, i) =>
    outbound(
      100_000 + i,
      '+12125550003',
      `2025-11-${String(1 + (i % 28)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}`,
      1 + (i % 50),
    ),
  );
  const file = write('killed.csv', rows);
  // A process: killed half way, as an operator's Ctrl-C or a crash would.
  const env = { ...process.env, DATABASE_URL: db.url, BILLING_IMPORT_BATCH_ROWS: '500', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const child = spawn(process.execPath, [BIN, 'usage', 'import', file, '--source', 'pbx-kill'], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const count = async (): Promise<number> => (await db.pool.query("SELECT count(*)::int AS n FROM cdr_records WHERE source = 'pbx-kill'")).rows[0].n;
  while ((await count()) < 1000) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  await exited;
  const landed = await count();
  expect(landed % 500).toBe(0);
  expect(landed).toBeLessThan(60_000);
  const rerun = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-kill' });
  expect(rerun).toMatchObject({ rowsRead: 60_000, duplicates: landed });
  expect(await count()).toBe(60_000);
});

test('usage alerts measure against the allowance the subscriber really has: plan and approved limit included', async () => {
  const period = periodOf(Date.now(), 'UTC');
  await givenSubscriber(db.pool, { id: 'biz', numbers: ['+12125550777'], business: true, serviceStart: `${period}-01` });
  const request = await createLimitRequest(db.pool, { subscriberId: 'biz', minutes: 4000, reason: 'call centre', actor: 'test' });
  await grantLimit(db.pool, 'biz', { requestId: request.id, minutes: 4000, fromPeriod: period, untilPeriod: null });
  // 2,400 minutes: the policy's whole allowance, but 60 % of the approved 4,000.
  const first = await importUsageFile(db.pool, {
    file: write('biz-1.csv', [outbound(300, '+12125550777', `${period}-01 12:00:00`, 2400 * 60)]),
    timezone: 'UTC',
    source: 'pbx-biz',
  });
  expect(await queueUsageAlerts(db.pool, first.touched)).toEqual([]);
  // 3,200 minutes: 80 % of 4,000.
  const second = await importUsageFile(db.pool, {
    file: write('biz-2.csv', [outbound(301, '+12125550777', `${period}-01 18:00:00`, 800 * 60)]),
    timezone: 'UTC',
    source: 'pbx-biz',
  });
  expect(await queueUsageAlerts(db.pool, second.touched)).toEqual([`usage-alert:biz:${period}:80`]);
});
