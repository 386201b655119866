/**
 * What the CLI prints for people (issue 13, "A thin CLI"): tables headed in words ("Subscriber",
 * "Monthly fee", not keys), amounts with their currency, counts with the right plural, and
 * `billing status` naming the limit support granted. `--json` keeps the records' keys.
 * The commands run in-process through the CLI's entry function against a real database and a
 * real Temporal server (no worker: `status` reports the cycle as not available).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { nextPeriod, periodOf } from '../../billing/periods';
import { headerOf, plural } from '../../client/output';
import { billingIn, cliEnvFor } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startTimeSkippingServer } from '../helpers/temporal';

let db: TestDatabase;
let env: TestWorkflowEnvironment;
let cliEnv: NodeJS.ProcessEnv;
const period = periodOf(Date.now(), 'UTC');

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  cliEnv = cliEnvFor({ env, databaseUrl: db.url, taskQueue: 'cli-output' });
  await db.pool.query(
    `INSERT INTO subscribers (id, name, email, timezone, monthly_fee_cents, service_start) VALUES
       ('ann', 'Ann', 'ann@example.test', 'UTC', 1500, '2026-01-01'), ('bob', NULL, 'bob@example.test', 'Europe/Berlin', 0, '2026-02-01')`,
  );
  await db.pool.query("INSERT INTO support_staff (id, email) VALUES ('sam', 'sam@example.test')");
  await db.pool.query(
    `INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason, status, approved_minutes, reviewer, decided_at)
       VALUES ('LR-1', 'ann', 3000, 'a busy month', 'approved', 3000, 'sam', now()), ('LR-2', 'ann', 4000, 'busier', 'approved', 4000, 'sam', now())`,
  );
  await db.pool.query(
    `INSERT INTO subscriber_limits (request_id, subscriber_id, from_period, until_period, minutes) VALUES ('LR-1', 'ann', $1, $2, 3000), ('LR-2', 'ann', $3, NULL, 4000)`,
    [period, nextPeriod(period), nextPeriod(nextPeriod(period))],
  );
});

afterAll(async () => {
  await Promise.all([db?.drop(), env?.teardown()]);
});

/** Runs one command line in-process and returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await billingIn(cliEnv, args);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return stdout;
}

test('headers in words: a camelCase key becomes words, an id names what it is', () => {
  expect(['monthlyFee', 'subscriberId', 'serviceStart', 'not counted', 'caseId', 'id', 'day'].map(headerOf)).toEqual([
    'Monthly fee',
    'Subscriber',
    'Service start',
    'Not counted',
    'Case',
    'ID',
    'Day',
  ]);
  expect([plural(0, 'call'), plural(1, 'call'), plural(2, 'call'), plural(1200, 'minute')]).toEqual(['0 calls', '1 call', '2 calls', '1,200 minutes']);
});

test('subscribers list: headed in words, the monthly fee with its currency; --json unchanged', async () => {
  const lines = (await cli('subscribers', 'list')).trimEnd().split('\n');
  expect(lines[0]).toMatch(/^Subscriber\s+Name\s+Email\s+Time zone\s+Business\s+Monthly fee\s+Service start\s+Status\s+Numbers$/);
  expect(lines[1]).toMatch(/^ann\s+Ann\s+ann@example\.test\s+UTC\s+15\.00 USD\s+2026-01-01\s+active$/);
  expect(lines[2]).toMatch(/^bob\s+bob@example\.test\s+Europe\/Berlin\s+0\.00 USD\s+2026-02-01\s+active$/);
  const json = JSON.parse(await cli('subscribers', 'list', '--json')) as Record<string, unknown>[];
  expect(Object.keys(json[0]!)).toEqual(expect.arrayContaining(['id', 'monthlyFeeCents', 'serviceStart', 'numbers']));
  expect(json[0]).toMatchObject({ id: 'ann', monthlyFeeCents: 1500 });
});

test('status names the monthly fee with its currency and the limits granted, this month and later', async () => {
  const out = await cli('status', 'ann');
  expect(out).toContain('  monthly fee: 15.00 USD\n');
  expect(out).toContain(`  granted limit: 3,000 minutes a month in ${period} (request LR-1, ${period} to ${nextPeriod(period)})\n`);
  const later = nextPeriod(nextPeriod(period));
  expect(out).toContain(`  granted limit: 4,000 minutes a month from ${later} (request LR-2, ${later} to no end month)\n`);
  expect(await cli('status', 'bob')).not.toContain('granted limit');
  const json = JSON.parse(await cli('status', 'ann', '--json')) as Record<string, unknown>;
  expect(Object.keys(json)).toEqual(['subscriber', 'cycle', 'cycleProblem', 'invoices', 'abuseCases', 'flaggedCalls', 'mail']);
});

test('staff and limit lists: the id column says what it is', async () => {
  expect((await cli('staff', 'list')).split('\n')[0]).toMatch(/^Reviewer\s+Name\s+Email\s+Role\s+Active\s+Password$/);
  expect((await cli('limit', 'list', '--status', 'approved')).split('\n')[0]).toMatch(
    /^Request\s+Subscriber\s+Asked \(min\)\s+Status\s+Age\s+Reviewer\s+Granted \(min\)\s+Until\s+Reason$/,
  );
});

test('the CLI runs in-process as often as asked: each command line with its own environment and output, its exit code returned, nothing left behind', async () => {
  const exitCode = process.exitCode;
  const listeners = [process.stdout.listenerCount('error'), process.stderr.listenerCount('error')];
  // At the same time: a query, one whose environment is invalid, a bad flag, and help.
  const [listed, badEnv, badFlag, help] = await Promise.all([
    billingIn(cliEnv, ['subscribers', 'list', '--json']),
    billingIn({ ...cliEnv, BILLING_CLOSE_GRACE_HOURS: 'soon' }, ['subscribers', 'list']),
    billingIn(cliEnv, ['subscribers', 'list', '--colour']),
    billingIn(cliEnv, ['invoices', '--help']),
  ]);
  expect({ ...listed, stdout: (JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id) }).toEqual({ code: 0, stdout: ['ann', 'bob'], stderr: '' });
  expect(badEnv).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/^billing: environment variable BILLING_CLOSE_GRACE_HOURS="soon" is invalid: .*\n$/) });
  expect(badFlag).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining("error: unknown option '--colour'") });
  expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: billing invoices [options] [command]'), stderr: '' });
  // The same command line again gives the same; the process's exit code and streams are untouched.
  expect(await billingIn(cliEnv, ['subscribers', 'list', '--json'])).toEqual(listed);
  expect(process.exitCode).toBe(exitCode);
  expect([process.stdout.listenerCount('error'), process.stderr.listenerCount('error')]).toEqual(listeners);
});
