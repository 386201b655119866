/**
 * Numbers in any written form on a real PostgreSQL (issue 14): a number registered before E.164
 * normalisation is rewritten by migrate, idempotently; an Asterisk file writing one subscriber's
 * number six ways lands on them six times; a record imported before its number was registered
 * is attributed by rematch whatever form each side used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rematchUnmatched } from '../../db/rematch';
import { importUsageFile } from '../../db/usage-import';
import { normaliseStoredNumbers } from '../../db/migrate';
import { CDR_FIXTURES } from '../helpers/cdr-rows';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';

let db: TestDatabase;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-numbers-'));

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function numbersOf(subscriberId: string): Promise<string[]> {
  const { rows } = await db.pool.query('SELECT number FROM subscriber_numbers WHERE subscriber_id = $1 ORDER BY number', [subscriberId]);
  return rows.map((r) => r.number as string);
}

test('migrate rewrites numbers stored as written in E.164, once, and leaves a clash to a person', async () => {
  // Stored the way the schema allowed before: digits with an optional +.
  await givenSubscriber(db.pool, { id: 'old-alice', numbers: ['14155550111', '1001'] });
  await givenSubscriber(db.pool, { id: 'old-bob', numbers: ['+14155550122'] });
  await givenSubscriber(db.pool, { id: 'old-cat', numbers: ['4155550122'] });
  const log: string[] = [];
  expect(await normaliseStoredNumbers(db.url, (line) => log.push(line), 'US')).toBe(1);
  expect(await numbersOf('old-alice')).toEqual(['+14155550111', '1001']);
  expect(await numbersOf('old-cat')).toEqual(['4155550122']);
  expect(log.join('\n')).toContain('"4155550122" (old-cat) is +14155550122 in E.164, already registered to old-bob');
  expect(await normaliseStoredNumbers(db.url, () => undefined, 'US')).toBe(0);
});

test('an Asterisk file writing one number in six forms lands on its subscriber six times', async () => {
  await givenSubscriber(db.pool, { id: 'alice', numbers: ['+14155550101'] });
  await givenSubscriber(db.pool, { id: 'bob', numbers: ['1002'] });
  const file = path.join(dir, 'number-forms.csv');
  fs.copyFileSync(path.join(CDR_FIXTURES, 'asterisk-number-forms.csv'), file);
  const summary = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-forms', country: 'US' });
  expect(summary).toMatchObject({ rowsRead: 8, counted: 8, unmatched: 0, rejected: 0 });
  const { rows } = await db.pool.query(
    `SELECT subscriber_id, direction, count(*)::int AS calls FROM calls WHERE period = '2026-10' AND subscriber_id IN ('alice', 'bob')
      GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  expect(rows).toEqual([
    { subscriber_id: 'alice', direction: 'incoming', calls: 1 },
    { subscriber_id: 'alice', direction: 'outgoing', calls: 6 },
    { subscriber_id: 'bob', direction: 'incoming', calls: 1 },
  ]);
});

test('rematch attributes a record written (415) 555-0133 to the number registered later in E.164', async () => {
  const file = path.join(dir, 'before-registration.csv');
  const row = fs
    .readFileSync(path.join(CDR_FIXTURES, 'asterisk-number-forms.csv'), 'utf8')
    .split('\n')[5]!
    .replaceAll('(415) 555-0101', '(415) 555-0133')
    .replace('1791366600.110', '1791366600.999');
  fs.writeFileSync(file, `${row}\n`);
  const imported = await importUsageFile(db.pool, { file, timezone: 'UTC', source: 'pbx-later', country: 'US' });
  expect(imported).toMatchObject({ counted: 1, unmatched: 1 });
  await givenSubscriber(db.pool, { id: 'dan', numbers: ['+14155550133'] });
  const rematched = await rematchUnmatched(db.pool);
  expect(rematched.touched).toEqual([{ subscriberId: 'dan', period: '2026-10' }]);
  const { rows } = await db.pool.query(`SELECT count(*)::int AS calls FROM calls WHERE subscriber_id = 'dan'`);
  expect(rows[0].calls).toBe(1);
});

test("rematch reads a record's numbers in its source's country, not the default one", async () => {
  // A London switch writes national numbers; the importer read them as GB, and so must rematch.
  await db.pool.query(`INSERT INTO usage_sources (name, kind, format, timezone, country, dir) VALUES ('pbx-london', 'spool', 'asterisk', 'Europe/London', 'GB', '/nowhere')`);
  const file = path.join(dir, 'london.csv');
  const row = fs
    .readFileSync(path.join(CDR_FIXTURES, 'asterisk-number-forms.csv'), 'utf8')
    .split('\n')[5]!
    .replaceAll('(415) 555-0101', '020 7946 0018')
    .replace('1791366600.110', '1791366600.777');
  fs.writeFileSync(file, `${row}\n`);
  const imported = await importUsageFile(db.pool, { file, timezone: 'Europe/London', source: 'pbx-london', country: 'GB' });
  expect(imported).toMatchObject({ counted: 1, unmatched: 1 });
  await givenSubscriber(db.pool, { id: 'erin', numbers: ['+442079460018'] });
  const rematched = await rematchUnmatched(db.pool);
  expect(rematched.touched).toEqual([{ subscriberId: 'erin', period: '2026-10' }]);
});
