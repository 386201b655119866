/**
 * `billing sources` on a real dev server and PostgreSQL (issue 14, part 1): every flag checked
 * with a one-line error (exit 2), the DSN's password never printed nor in the schedule's payload,
 * the Schedule usage-collector-NAME paused, resumed and removed with the source, and `usage import
 * --source NAME` reading a file with the source's settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ScheduleNotFoundError } from '@temporalio/client';
import { cliAgainst } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startDevServer } from '../helpers/temporal';
import { asteriskFile } from '../helpers/asterisk-rows';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let spoolDir: string;
const taskQueue = 'usage-sources-test';
const cli = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue }));
const DSN = 'postgres://asterisk_reader:s3cret-PASS@127.0.0.1:5432/asterisk';

beforeAll(async () => {
  [env, db] = await Promise.all([startDevServer(), createTestDatabase()]);
  spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-spool-'));
});

afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

test.each([
  [['sources', 'add', 'pbx', '--timezone', 'UTC', '--dsn', DSN], '--kind is required'],
  [['sources', 'add', 'pbx', '--kind', 'mysql', '--timezone', 'UTC'], '--kind "mysql" is not one of asterisk-db, spool'],
  [['sources', 'add', 'PBX!', '--kind', 'spool'], 'NAME "PBX!" must be lower-case'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--dsn', DSN], '--timezone is required'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'Mars/Base', '--dsn', DSN], 'Mars/Base'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC'], '--dsn is required'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', 'mysql://u:s3cret-PASS@h/db'], '--dsn "mysql://u:***@h/db" is a mysql: URL'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--table', 'cdr; drop'], '--table "cdr; drop" must be a table name'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--dir', '/tmp'], '--dir is for a spool source'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--format', 'freeswitch'], '--format "freeswitch"'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--country', 'XX'], '--country: country "XX"'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--every', '5 minutes'], '--every "5 minutes" must be a duration'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--every', '2s'], '--every "2s" is too short'],
  [['sources', 'add', 'pbx', '--kind', 'asterisk-db', '--timezone', 'UTC', '--dsn', DSN, '--alert-after-failures', '0'], '--alert-after-failures "0"'],
  [['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--format', 'asterisk'], '--dir is required'],
  [['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--dir', '/tmp'], '--format is required'],
  [['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--format', 'xml', '--dir', '/tmp'], '--format "xml" is not one of'],
  [['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--format', 'asterisk', '--dir', '/nonexistent/spool'], '--dir "/nonexistent/spool" is not a folder'],
  [['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--format', 'asterisk', '--dir', '/tmp', '--dsn', DSN], '--dsn and --table are for an asterisk-db source'],
  [
    ['sources', 'add', 'pbx', '--kind', 'spool', '--timezone', 'UTC', '--format', 'asterisk', '--dir', '/tmp', '--columns', 'linkedid'],
    'peeraccount, linkedid and sequence are written together',
  ],
  [['sources', 'show', 'nobody'], 'source "nobody" does not exist'],
])('%j is refused with one line', async (args, message) => {
  const result = await cli(...args);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toContain('s3cret-PASS');
});

test('an asterisk-db source: its password never printed nor in its schedule; paused, resumed and removed with its schedule', async () => {
  const added = await cli(
    'sources',
    'add',
    'pbx-paris',
    '--kind',
    'asterisk-db',
    '--timezone',
    'Europe/Paris',
    '--country',
    'FR',
    '--dsn',
    DSN,
    '--table',
    'cdr',
    '--every',
    '10m',
    '--feature-codes',
    '_*72.',
    '--voicemail-numbers',
    '*98,s@vm-menu',
  );
  expect(added).toMatchObject({ code: 0 });
  expect(added.stdout).toContain('added source pbx-paris (asterisk-db, asterisk, Europe/Paris): cdr in postgres://asterisk_reader:***@127.0.0.1:5432/asterisk');
  expect(added.stdout).toContain('created schedule usage-collector-pbx-paris: every 10m');
  expect((await cli('sources', 'add', 'pbx-paris', '--kind', 'spool', '--timezone', 'UTC', '--format', 'asterisk', '--dir', spoolDir)).stderr).toContain(
    'source "pbx-paris" exists already',
  );

  for (const args of [
    ['sources', 'list'],
    ['sources', 'list', '--json'],
    ['sources', 'show', 'pbx-paris'],
    ['sources', 'show', 'pbx-paris', '--json'],
  ]) {
    const shown = await cli(...args);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('pbx-paris');
    expect(shown.stdout).not.toContain('s3cret-PASS');
  }
  const json = JSON.parse((await cli('sources', 'show', 'pbx-paris', '--json')).stdout);
  expect(json).toMatchObject({
    kind: 'asterisk-db',
    country: 'FR',
    featureCodes: ['_*72.'],
    voicemailNumbers: ['*98', 's@vm-menu'],
    every: '10m',
    paused: false,
    rowsCollected: 0,
  });

  const handle = env.client.schedule.getHandle('usage-collector-pbx-paris');
  const description = await handle.describe();
  expect(description.state.paused).toBe(false);
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'usageCollectorWorkflow', args: [{ source: 'pbx-paris' }] });
  expect(JSON.stringify(description)).not.toContain('s3cret-PASS');
  expect(description.spec.intervals?.[0]?.every).toBe(600_000);

  expect((await cli('sources', 'pause', 'pbx-paris')).code).toBe(0);
  expect((await handle.describe()).state.paused).toBe(true);
  expect(JSON.parse((await cli('sources', 'show', 'pbx-paris', '--json')).stdout).paused).toBe(true);
  expect((await cli('sources', 'resume', 'pbx-paris')).code).toBe(0);
  expect((await handle.describe()).state.paused).toBe(false);

  const removed = await cli('sources', 'remove', 'pbx-paris');
  expect(removed).toMatchObject({ code: 0 });
  expect(removed.stdout).toContain('removed source pbx-paris and its schedule usage-collector-pbx-paris');
  await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect((await cli('sources', 'show', 'pbx-paris')).code).toBe(2);
});

test("usage import --source NAME reads a file with the source's zone, country and feature codes", async () => {
  await givenSubscriber(db.pool, { id: 'lyon', numbers: ['+33478000001'] });
  expect(
    (
      await cli(
        'sources',
        'add',
        'pbx-lyon',
        '--kind',
        'spool',
        '--format',
        'asterisk',
        '--timezone',
        'Europe/Paris',
        '--country',
        'FR',
        '--dir',
        spoolDir,
        '--feature-codes',
        '_*72.',
      )
    ).code,
  ).toBe(0);
  const file = path.join(spoolDir, 'Master.csv');
  fs.writeFileSync(
    file,
    asteriskFile([
      { src: '0478000001', dst: '0142000000', start: '2026-09-03 10:00:00', billsec: 120, uniqueid: 'a1' },
      { src: '0478000001', dst: '*724155550101', start: '2026-09-03 11:00:00', billsec: 5, lastapp: 'Playback', uniqueid: 'a2' },
    ]),
  );
  const imported = await cli('usage', 'import', file, '--source', 'pbx-lyon', '--json');
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ format: 'asterisk', source: 'pbx-lyon', counted: 1, notCounted: { 'not-a-call': 1 }, unmatched: 0 });
  // 10:00 in Paris is 08:00 UTC in September (a month past alerting: no follow-up to wait for).
  const { rows } = await db.pool.query(`SELECT started_at FROM calls WHERE subscriber_id = 'lyon' AND counted`);
  expect(rows.map((r) => (r.started_at as Date).toISOString())).toEqual(['2026-09-03T08:00:05.000Z']);
});
