/**
 * The policy impact preview on a real PostgreSQL (issue 16, part 4): four subscribers whose
 * August to October were invoiced by the close's own activity (a partial first month, a granted
 * limit, a minute plan, a policy version that changed the rate in October, a call before a
 * service start), re-rated under the terms in force then and under a proposal, to the cent; the
 * CLI's text, JSON and CSV; its refusals; and `policy publish` showing it and asking first.
 */
import { loadConfig } from '../../config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { createCycleActivities } from '../../activities/cycle';
import { outboxDelivery } from '../../activities/mail';
import { INITIAL_POLICY } from '../../billing/policy';
import { addDays, dayOf } from '../../billing/policy-revision';
import { runCli } from '../../client/cli';
import { lastClosedMonths, policyPreview } from '../../client/policy-preview';
import { createLimitRequest, grantLimit } from '../../db/limit-requests';
import { activatePolicyVersion, insertScheduledPolicy, listPolicyVersions } from '../../db/policies';
import { inTransaction } from '../../db/pool';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';

let db: TestDatabase;
let smtp: TestSmtpServer;
let mailer: Transporter;
const saved = { ...process.env };
const periods = ['2026-08', '2026-09', '2026-10'];
const minutes = (n: number): number => n * 60;
let dir: string;

beforeAll(async () => {
  [db, smtp] = await Promise.all([createTestDatabase(), startSmtpServer()]);
  mailer = nodemailer.createTransport({ url: smtp.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-preview-'));
  Object.assign(process.env, { DATABASE_URL: db.url });
  const pool = db.pool;
  // Version 2, in force from October: the overage rate doubled.
  await insertScheduledPolicy(pool, { version: 2, rules: { ...INITIAL_POLICY, overageRateMicros: 100_000 }, effectiveFrom: '2026-10-01', basedOn: 1, publishedBy: 'test' });
  await inTransaction(pool, (client) => activatePolicyVersion(client, { version: 2, activeFrom: '2026-10-01', at: new Date('2026-10-01T00:00:00Z'), by: 'test' }));

  await givenSubscriber(pool, { id: 'ann', monthlyFeeCents: 1000 });
  await givenSubscriber(pool, { id: 'bob', monthlyFeeCents: 0 });
  await givenSubscriber(pool, { id: 'carl', monthlyFeeCents: 3100, serviceStart: '2026-08-20' });
  await givenSubscriber(pool, { id: 'dina', monthlyFeeCents: 2000 });
  const request = await createLimitRequest(pool, { subscriberId: 'bob', minutes: 2500, reason: 'call centre', actor: 'test' });
  await grantLimit(pool, 'bob', { requestId: request.id, minutes: 2500, fromPeriod: '2026-08', untilPeriod: null });
  await pool.query(`INSERT INTO subscriber_plans (subscriber_id, effective_period, minutes, fee_cents, reason) VALUES ('dina', '2026-09', 500, 1500, '{}')`);

  const used: Record<string, [number, number, number]> = { ann: [2500, 2700, 2600], bob: [2450, 2450, 2450], carl: [1000, 3100, 3500], dina: [2600, 2800, 2950] };
  for (const [id, perMonth] of Object.entries(used)) {
    for (const [i, period] of periods.entries()) {
      await givenCalls(pool, callsTotalling(id, id === 'carl' && i === 0 ? '2026-08-20' : `${period}-01`, minutes(perMonth[i]!)));
    }
  }
  // Before carl's service start: kept, never rated.
  await givenCalls(pool, [{ subscriber: 'carl', start: '2026-08-10 09:00:00', seconds: 600 }]);

  const cycle = createCycleActivities(pool, outboxDelivery(pool, mailer, { mailFrom: 'billing@redconnect.test', billingOpsEmail: 'ops@redconnect.test' }), loadConfig({}).seller);
  for (const period of periods) {
    for (const id of Object.keys(used)) await cycle.writeInvoice({ subscriberId: id, period });
  }
});

afterAll(async () => {
  process.env = saved;
  mailer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  await Promise.all([db?.drop(), smtp?.close()]);
});

/** Runs one command line in-process: its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await runCli(args), stdout, stderr };
  } catch (error) {
    return { code: (error as { code?: number }).code ?? 1, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const proposal = { includedMinutes: 3000, overageRateMicros: 40_000 };

test('every invoiced month re-rated under the terms in force is its invoice; under the proposal, to the cent', async () => {
  const preview = await policyPreview(db.pool, periods, proposal);
  expect(preview.basedOn).toBe(2);
  expect(preview.differences.map((d) => [d.label, d.before, d.after])).toEqual([
    ['Included minutes a month', '2400 min', '3000 min'],
    ['Overage rate', '0.10 USD a minute', '0.04 USD a minute'],
  ]);

  // "Current" is the close's own rating: each month's total is its invoice's.
  const { rows } = await db.pool.query('SELECT subscriber_id, period, total_cents, overage_minutes FROM invoices ORDER BY subscriber_id, period');
  expect(rows).toHaveLength(12);
  const rated = preview.subscribers.flatMap((s) =>
    s.months.map((m) => ({ subscriber_id: s.subscriberId, period: m.period, total_cents: m.current.totalCents, overage_minutes: m.current.overageMinutes })),
  );
  expect(rated).toEqual(rows.map((r) => ({ ...r, total_cents: Number(r.total_cents) })));

  const by = (id: string) => preview.subscribers.find((s) => s.subscriberId === id)!;
  const totals = (id: string, side: 'current' | 'proposed'): number[] => by(id).months.map((m) => m[side].totalCents);
  // ann: 100, 300 min over at 0.05, 200 at 0.10 in October; none under 3,000 minutes.
  expect(totals('ann', 'current')).toEqual([1500, 2500, 3000]);
  expect(totals('ann', 'proposed')).toEqual([1000, 1000, 1000]);
  expect(by('ann').current.plans).toEqual([{ fromPeriod: '2026-11', plan: { minutes: 500, feeCents: 1500 }, averageOverageMinutes: 200, periods }]);
  expect(by('ann').proposed.plans).toEqual([]);
  // bob: within his granted 2,500 minutes, and within 3,000.
  expect(by('bob').changed).toBe(false);
  expect(by('bob').months.map((m) => [m.current.allowanceMinutes, m.proposed.allowanceMinutes])).toEqual([
    [2500, 3000],
    [2500, 3000],
    [2500, 3000],
  ]);
  // carl: 12 of 31 days in August (930 min now, 1,162 proposed); his call of 10 August is not rated.
  expect(by('carl').months.map((m) => [m.current.allowanceMinutes, m.current.usedSeconds, m.current.overageMinutes])).toEqual([
    [930, minutes(1000), 70],
    [2400, minutes(3100), 700],
    [2400, minutes(3500), 1100],
  ]);
  expect(totals('carl', 'current')).toEqual([1550, 6600, 14100]);
  expect(totals('carl', 'proposed')).toEqual([1200, 3500, 5100]);
  expect(by('carl').current.plans.map((o) => [o.plan.minutes, o.fromPeriod])).toEqual([[1000, '2026-11']]);
  // dina: her 500-minute plan from September is a fact of both: 2,900 min now, 3,500 proposed.
  expect(by('dina').months.map((m) => [m.current.allowanceMinutes, m.proposed.allowanceMinutes])).toEqual([
    [2400, 3000],
    [2900, 3500],
    [2900, 3500],
  ]);
  expect(totals('dina', 'current')).toEqual([3000, 3500, 4000]);
  expect(totals('dina', 'proposed')).toEqual([2000, 3500, 3500]);

  expect(preview.totals).toEqual({
    subscribers: 4,
    changed: 3,
    current: { overageMinutes: 2720, overageCents: 20350, totalCents: 39750, plans: 2 },
    proposed: { overageMinutes: 600, overageCents: 2400, totalCents: 21800, plans: 0 },
  });
});

test('billing policy preview prints the subscribers whose bills change and the totals; --csv writes every subscriber-month; --json', async () => {
  const csv = path.join(dir, 'preview.csv');
  const result = await cli('policy', 'preview', '--months', '2026-08..2026-10', '--included-minutes', '3000', '--overage-rate', '0.04', '--csv', csv);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines.slice(0, 4)).toEqual([
    'Policy preview: 2026-08..2026-10 (3 closed months) re-rated under version 2 with:',
    '  Included minutes a month: 2400 min → 3000 min',
    '  Overage rate: 0.10 USD a minute → 0.04 USD a minute',
    'against the terms in force in each month (its policy version, plans and granted limits).',
  ]);
  expect(lines[4]).toMatch(/^Subscriber\s+Overage minutes\s+Overage \(USD\)\s+Invoiced \(USD\)\s+Difference \(USD\)\s+Minute plan \(now → proposed\)$/);
  expect(lines[5]).toMatch(/^ann\s+600 → 0\s+40\.00 → 0\.00\s+70\.00 → 30\.00\s+-40\.00\s+500 min for 15\.00 USD from 2026-11 → none$/);
  expect(lines[6]).toMatch(/^carl\s+1,870 → 600\s+148\.50 → 24\.00\s+222\.50 → 98\.00\s+-124\.50\s+1000 min for 25\.00 USD from 2026-11 → none$/);
  expect(lines[7]).toMatch(/^dina\s+250 → 0\s+15\.00 → 0\.00\s+105\.00 → 90\.00\s+-15\.00\s+none$/);
  expect(lines[8]).toBe(
    'In total: 4 subscribers invoiced, 3 whose bills or plans change; overage 2,720 → 600 min, 203.50 → 24.00 USD; invoiced 397.50 → 218.00 USD (-179.50 USD); minute plans decided 2 → 0',
  );
  expect(lines[9]).toBe(`wrote 12 rows (one per subscriber and month) to ${csv}`);

  const rows = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
  expect(rows).toHaveLength(13);
  expect(rows[0]).toMatch(/^subscriber,period,current_policy_version,current_allowance_minutes,/);
  expect(rows).toContain('bob,2026-09,1,2500,147000,0,0.00,0.00,3000,147000,0,0.00,0.00,0.00,USD,,');
  expect(rows).toContain('carl,2026-08,1,930,60000,70,3.50,15.50,1162,60000,0,0.00,12.00,-3.50,USD,,');
  expect(rows).toContain('dina,2026-10,2,2900,177000,50,5.00,40.00,3500,177000,0,0.00,35.00,-5.00,USD,,');
  expect(rows).toContain('ann,2026-10,2,2400,156000,200,20.00,30.00,3000,156000,0,0.00,10.00,-20.00,USD,500 min for 15.00 USD,');

  const json = await cli('policy', 'preview', '--months', '2026-09', '--overage-rate', '0.04', '--json');
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout);
  expect(report).toMatchObject({ periods: ['2026-09'], currency: 'USD', basedOn: 2, totals: { subscribers: 4 } });
  // September alone, rate 0.05 → 0.04: ann 300 min (15.00 → 12.00), carl 700 min (35.00 → 28.00).
  expect(report.totals.current.overageCents).toBe(5000);
  expect(report.totals.proposed.overageCents).toBe(4000);
});

test('bad --months or parameters exit 2 with one line naming the value; nothing future or not closed is previewed', async () => {
  const cases: [string[], string][] = [
    [['--months', '2026-8..2026-10'], '--months "2026-8..2026-10" must be a range of months FIRST..LAST, e.g. 2026-08..2026-10 (or one month, 2026-09)'],
    [['--months', '2026-10..2026-08'], '--months 2026-10..2026-08 is reversed: write the earlier month first, 2026-08..2026-10'],
    [['--months', '2026-10..2099-01'], 'spans 868 months: preview at most 24 at a time'],
    [['--months', '2099-01'], '--months: 2099-01 is not over yet'],
    [
      ['--months', '2026-09..2026-11'],
      '--months: 2026-11 is not closed yet: 4 of 4 subscribers billable for it have no invoice; close it first (`billing close --period 2026-11 --wait`)',
    ],
    [['--months', '2026-09', '--overage-rate', '0.0.5'], '--overage-rate: rate "0.0.5" is not a non-negative decimal number'],
    [['--months', '2026-09', '--plan-streak', '0'], '--plan-streak 0 must be 1 to 24 months'],
    [['--months', '2026-09', '--csv', '/nonexistent-folder/preview.csv'], '--csv /nonexistent-folder/preview.csv: cannot write it: ENOENT'],
  ];
  for (const [args, message] of cases) {
    const result = await cli('policy', 'preview', ...args);
    expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 2, stderr: expect.stringContaining(message) });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  }
});

test('policy publish shows the preview of the last three closed months, and without a terminal refuses unless --yes', async () => {
  // November is over but not closed: the last closed months are August to October.
  expect(await lastClosedMonths(db.pool, Date.parse('2026-12-02T12:00:00Z'))).toEqual(periods);
  const stdin = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
  Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
  try {
    const eff = addDays(dayOf(Date.now()), 40);
    const result = await cli('policy', 'publish', '--effective', eff, '--included-minutes', '3000', '--overage-rate', '0.04');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('billing: policy publish asks for confirmation and stdin is not a terminal: pass --yes to publish without the question\n');
    const shown = result.stdout.trimEnd().split('\n');
    // Today's last closed months: August to October until this test runs in 2027.
    const last = await lastClosedMonths(db.pool, Date.now());
    if (last.length === 3) {
      expect(shown[0]).toBe(`Policy preview: ${last[0]}..${last[2]} (3 closed months) re-rated under version 2 with:`);
      if (last[2] === '2026-10') expect(shown[shown.length - 1]).toMatch(/^In total: 4 subscribers invoiced, 3 whose bills or plans change; /);
    } else {
      expect(shown).toEqual(['Policy preview: none of the last three months is closed yet, so there is no usage to re-rate.']);
    }
    // Nothing was published.
    expect((await listPolicyVersions(db.pool)).map((p) => p.version)).toEqual([1, 2]);
    // A refused revision is refused before any preview or question.
    const tooSoon = await cli('policy', 'publish', '--effective', addDays(dayOf(Date.now()), 10), '--included-minutes', '3000');
    expect(tooSoon).toMatchObject({ code: 2, stdout: '' });
    expect(tooSoon.stderr).toMatch(/^billing: --effective \S+ is less than the 30-day notice period away: the earliest allowed date is \S+\n$/);
  } finally {
    if (stdin) Object.defineProperty(process.stdin, 'isTTY', stdin);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
  }
});
