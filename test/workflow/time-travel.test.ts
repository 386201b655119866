/**
 * Issue 16, part 3: the engine of `billing demo --months N` plays a whole year of the example
 * subscribers on the time-skipping server, with real PostgreSQL and a real SMTP server, and what
 * a user would see is there: 12 invoices each with gap-free numbers dated in the simulated months,
 * each alert once, the minute plan after three months of overage, the late call's adjustment, the
 * approved limit, the policy notice, reminder and activation; in bounded wall time.
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import { nextPeriod } from '../../billing/periods';
import { playScenario, type PlayReport, type PlaySettings } from '../../client/time-travel/engine';
import type { PlayEvent } from '../../client/time-travel/facts';
import { buildScenario, LATE_CALL, LIMIT_REQUEST, type Scenario } from '../../client/time-travel/scenario';
import { DEMO_SUBSCRIBERS } from '../../client/demo-data';
import { usageImportWorkflowId } from '../../workflows/messages';
import { useTimeSkippingWorker } from '../helpers/harness';
import { recordHistory } from '../helpers/histories';

const taskQueue = 'time-travel-test';
const t = useTimeSkippingWorker(taskQueue);

let scenario: Scenario;
let report: PlayReport;
const events = (): PlayEvent[] => report.months.flatMap((m) => m.events);
const ofKind = <K extends PlayEvent['kind']>(kind: K): Extract<PlayEvent, { kind: K }>[] => events().filter((e): e is Extract<PlayEvent, { kind: K }> => e.kind === kind);

beforeAll(async () => {
  const config = loadConfig({});
  const settings: PlaySettings = { ...config, taskQueue };
  scenario = buildScenario({ nowMs: await t.env.currentTimeMs(), months: 12 });
  report = await playScenario({ env: t.env, pool: t.db.pool, scenario, settings, workDir: path.join(os.tmpdir(), `time-travel-${process.pid}`) });
}, 180_000);

test('a year of the example plays in bounded wall time, one month after another', () => {
  expect(report.months.map((m) => m.period)).toEqual([null, ...scenario.months.map((m) => m.period)]);
  expect(report.endedAtMs - report.startedAtMs).toBeGreaterThan(365 * 86_400_000);
  expect(report.wallMs).toBeLessThan(60_000);
});

test('12 invoices a subscriber, numbered without gaps in each year and issued in the simulated months', async () => {
  const { rows } = await t.db.pool.query(`SELECT subscriber_id, period, number, to_char(issue_date, 'YYYY-MM-DD') AS issued FROM invoices ORDER BY number`);
  expect(rows).toHaveLength(12 * DEMO_SUBSCRIBERS.length);
  for (const s of DEMO_SUBSCRIBERS) expect(rows.filter((r) => r.subscriber_id === s.id).map((r) => r.period)).toEqual(scenario.months.map((m) => m.period));
  const byYear = new Map<string, number[]>();
  for (const r of rows) {
    const [, year, n] = /^RC-(\d{4})-(\d{6})$/.exec(r.number)!;
    byYear.set(year!, [...(byYear.get(year!) ?? []), Number(n)]);
  }
  for (const numbers of byYear.values()) expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  // Issued when the month closed, on the 1st after it: the simulated day, not the machine's.
  for (const r of rows) expect(r.issued).toBe(`${nextPeriod(r.period)}-01`);
  expect(ofKind('invoice')).toHaveLength(rows.length);
});

test('each usage alert is mailed once: 80 % and 100 % as the month fills', async () => {
  const received = await t.smtp.waitForCount(1);
  const alerts = ofKind('alert');
  const keys = alerts.map((a) => `${a.subscriberId}:${a.period}:${a.percent}`);
  expect(new Set(keys).size).toBe(keys.length);
  const first = scenario.months[0]!.period;
  expect(keys).toEqual(expect.arrayContaining([`alice:${first}:80`, `alice:${first}:100`, `bruno:${first}:80`, `bruno:${first}:100`, `emma:${first}:80`]));
  expect(keys.filter((k) => k.startsWith('chiyo:'))).toEqual([]);
  // The mail server received each email sent once: no alert (nor anything else) twice.
  const { rows } = await t.db.pool.query(`SELECT purpose, count(*)::int AS n FROM email_outbox WHERE status = 'sent' GROUP BY 1`);
  const sent = Object.fromEntries(rows.map((r) => [r.purpose, r.n]));
  expect(sent['usage-alert']).toBe(alerts.length);
  expect(received.length).toBeGreaterThan(0);
  expect(t.smtp.received).toHaveLength(rows.reduce((sum, r) => sum + r.n, 0));
});

test('alice gets a minute plan after three months of overage, charged from the fourth', async () => {
  const months = scenario.months.map((m) => m.period);
  expect(ofKind('plan')).toEqual([expect.objectContaining({ subscriberId: 'alice', effectivePeriod: months[3], minutes: 500, feeCents: 1500 })]);
  const alice = ofKind('invoice').filter((e) => e.invoice.subscriberId === 'alice');
  expect(alice.slice(0, 3).every((e) => e.invoice.overageMinutes > 0 && e.invoice.planMinutes === null)).toBe(true);
  expect(alice.slice(3).every((e) => e.invoice.planMinutes === 500 && e.invoice.overageMinutes === 0)).toBe(true);
});

test("bruno's late call of the first month is an adjustment on the second month's invoice", () => {
  const [first, second] = scenario.months.map((m) => m.period);
  expect(ofKind('late-call')).toEqual([expect.objectContaining({ subscriberId: LATE_CALL.subscriberId, minutes: 30 })]);
  const invoice = ofKind('invoice').find((e) => e.invoice.subscriberId === 'bruno' && e.invoice.period === second)!.invoice;
  // 30 minutes over the first month's 2400, at that month's 0.05 a minute.
  expect(invoice.adjustments).toEqual([{ period: first, overageMinutes: 30, amountCents: 150 }]);
});

test("dispatch-co's limit request is approved and its months close within the new limit", async () => {
  expect(ofKind('limit-approved')).toEqual([expect.objectContaining({ subscriberId: LIMIT_REQUEST.subscriberId, minutes: LIMIT_REQUEST.minutes, reviewer: 'sam' })]);
  const { rows } = await t.db.pool.query(`SELECT status, approved_minutes FROM limit_requests WHERE subscriber_id = $1`, [LIMIT_REQUEST.subscriberId]);
  expect(rows).toEqual([{ status: 'approved', approved_minutes: LIMIT_REQUEST.minutes }]);
  const dispatch = ofKind('invoice').filter((e) => e.invoice.subscriberId === LIMIT_REQUEST.subscriberId);
  expect(dispatch.map((e) => e.invoice.overageMinutes)).toEqual(dispatch.map(() => 0));
});

test('the policy revision is noticed to everyone at publication, reminded, then active from its date (the second month)', async () => {
  const { effectiveFrom } = scenario.policy;
  const [published] = ofKind('policy-published');
  expect(report.months[0]!.events).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'policy-emails', emailKind: 'notice', count: DEMO_SUBSCRIBERS.length })]));
  expect(ofKind('policy-emails').filter((e) => e.emailKind === 'reminder')).toEqual([expect.objectContaining({ version: published!.version, count: DEMO_SUBSCRIBERS.length })]);
  expect(ofKind('policy-activated')).toEqual([expect.objectContaining({ version: published!.version, activeFrom: effectiveFrom })]);
  // The months before it are rated at 0.05 a minute, those from it at the new 0.04.
  const { rows } = await t.db.pool.query(`SELECT DISTINCT period, overage_rate_micros::int AS rate FROM invoices ORDER BY period`);
  expect(rows.map((r) => r.rate)).toEqual(scenario.months.map((m) => (`${m.period}-01` < effectiveFrom ? 50_000 : 40_000)));
});

test("an import's follow-up measures the alerts at the workflow's (simulated) time (recorded for the replay test)", async () => {
  // The month's second import (days 11 to 25), whose follow-up mailed the 80 % alerts.
  const { rows } = await t.db.pool.query(`SELECT id::int FROM usage_imports ORDER BY id LIMIT 1 OFFSET 1`);
  const history = await t.env.client.workflow.getHandle(usageImportWorkflowId(rows[0].id)).fetchHistory();
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'queueImportAlerts')!;
  const input = JSON.parse(Buffer.from(scheduled.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString());
  const eventMs = Number(scheduled.eventTime!.seconds) * 1000;
  expect(Math.abs(input.nowMs - eventMs)).toBeLessThan(1000);
  expect(input.nowMs).toBeGreaterThan(report.startedAtMs + 7 * 86_400_000);
  recordHistory('usage-import-alerts-at-workflow-time', history);
});
