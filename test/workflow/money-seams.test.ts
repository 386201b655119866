/**
 * Money where two processes meet or a subscription begins or ends (issue 12), on the time-skipping
 * server with real PostgreSQL and SMTP: a call imported during a close, a limit against a richer
 * policy, partial months, calls split at a month boundary, terminations at month end and after,
 * hold signals nobody decided, a close that can never succeed, and a mail server that is down.
 */
import { getInvoice, listInvoices } from '../../db/invoices';
import { createLimitRequest, limitGrantsFor } from '../../db/limit-requests';
import { insertStaff } from '../../db/staff';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import { approveSignal, closeCycleSignal, limitRequestStatusQuery, limitRequestWorkflowId, statusQuery, subscriberWorkflowId, terminateSignal } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';
import { recordHistory, runChain } from '../helpers/histories';
import { until } from '../helpers/wait';

const taskQueue = 'money-seams-test';
const t = useTimeSkippingWorker(taskQueue);
const minutes = (m: number): number => m * 60;

async function startCycle(id: string, period: string) {
  return t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId(id), taskQueue, args: [{ subscriberId: id, period }] });
}

/** Skips time to an instant (ISO, UTC) of the test's calendar. */
async function sleepUntil(iso: string): Promise<void> {
  const ms = Date.parse(iso) - (await t.env.currentTimeMs());
  if (ms > 0) await t.env.sleep(ms);
}

async function invoicesOf(id: string, count: number) {
  return until(
    () => listInvoices(t.db.pool, { subscriberId: id }),
    (list) => list.length >= count,
  );
}

/**
 * An import that commits between the close's reading of the month and the writing of its invoice,
 * made deterministic: the first time the invoice row for `invoiceId` is inserted, a call of
 * `seconds` lands for the subscriber in that month, as an import committing just then would leave
 * it (not late: no invoice existed when it was checked).
 */
async function givenImportDuringTheClose(invoiceId: string, subscriberId: string, startedAt: string, seconds: number): Promise<void> {
  await t.db.pool.query(`
    CREATE OR REPLACE FUNCTION import_during_close() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = '${invoiceId}' THEN
        INSERT INTO calls (record_key, subscriber_id, direction, segment, period, started_at, billable_seconds, counted, late)
        VALUES (gen_random_uuid(), '${subscriberId}', 'outgoing', 0, NEW.period, timestamptz '${startedAt}', ${seconds}, true, false);
      END IF;
      RETURN NEW;
    END $$`);
  await t.db.pool.query('DROP TRIGGER IF EXISTS import_during_close ON invoices');
  await t.db.pool.query('CREATE TRIGGER import_during_close BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION import_during_close()');
}

afterEach(async () => {
  await t.db.pool.query('DROP TRIGGER IF EXISTS import_during_close ON invoices');
});

describe('a call imported during a close', () => {
  test('is billed on the next invoice, exactly once', async () => {
    await givenSubscriber(t.db.pool, { id: 'race', serviceStart: '2027-10-01', monthlyFeeCents: 1000 });
    await givenCalls(t.db.pool, callsTotalling('race', '2027-10-02', minutes(2500)));
    // October is read at 2,500 min; a 60-min call lands before its invoice is written.
    await givenImportDuringTheClose('INV-2027-10-race', 'race', '2027-10-20 12:00:00+00', minutes(60));
    const handle = await startCycle('race', '2027-10');
    await handle.signal(closeCycleSignal, { period: '2027-11' });
    await sleepUntil('2027-12-02T00:00:00Z');
    const [october, november] = await invoicesOf('race', 2);
    expect(october).toMatchObject({ period: '2027-10', overageMinutes: 100, totalCents: 1000 + 500 });
    // The database holds 2,560 min for October; November carries the 60 min it did not rate.
    expect(november).toMatchObject({ period: '2027-11', totalCents: 1000 + 300 });
    expect((await getInvoice(t.db.pool, 'INV-2027-11-race'))!.lines.map((l) => [l.kind, l.description, l.amountCents])).toEqual([
      ['monthly-fee', 'Monthly fee, 2027-11', 1000],
      ['adjustment', 'Late calls for 2027-10: +60 min overage', 300],
    ]);
    // Every counted call of October is now marked by the invoice that billed it.
    const { rows } = await t.db.pool.query(
      `SELECT invoice_id, sum(billable_seconds)::int AS seconds FROM calls WHERE subscriber_id = 'race' AND period = '2027-10' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { invoice_id: 'INV-2027-10-race', seconds: minutes(2500) },
      { invoice_id: 'INV-2027-11-race', seconds: minutes(60) },
    ]);
    const chain = await runChain(t.env.client, subscriberWorkflowId('race'), handle.firstExecutionRunId);
    recordHistory('subscriber-cycle-marked-calls', chain[0]!.history);
    recordHistory('subscriber-cycle-marked-calls-late-adjustment', chain[1]!.history);
  });

  test('two imports and a rerun of the close: each minute billed once', async () => {
    await givenSubscriber(t.db.pool, { id: 'race2', serviceStart: '2027-10-01', monthlyFeeCents: 1000 });
    await givenCalls(t.db.pool, callsTotalling('race2', '2027-10-02', minutes(2500)));
    await givenImportDuringTheClose('INV-2027-10-race2', 'race2', '2027-10-21 12:00:00+00', minutes(60));
    const handle = await startCycle('race2', '2027-10');
    await handle.signal(closeCycleSignal, { period: '2027-10' });
    await sleepUntil('2027-11-02T00:00:00Z');
    await invoicesOf('race2', 1);
    // A second import after October's invoice: 20 more minutes, stored as late.
    const second = await givenCalls(t.db.pool, [{ subscriber: 'race2', start: '2027-10-22 09:00:00', seconds: minutes(20) }], { source: 'second-switch' });
    expect(second.late).toBe(1);
    // The close of October runs again: nothing changes.
    await handle.signal(closeCycleSignal, { period: '2027-10' });
    await handle.signal(closeCycleSignal, { period: '2027-12' });
    await sleepUntil('2028-01-02T00:00:00Z');
    const invoices = await invoicesOf('race2', 3);
    expect(invoices.map((i) => [i.period, i.totalCents])).toEqual([
      ['2027-10', 1500],
      ['2027-11', 1000 + 400],
      ['2027-12', 1000],
    ]);
  });
});

test("an approved limit below a later policy's included minutes is no cap: the allowance is the larger", async () => {
  await givenSubscriber(t.db.pool, { id: 'capped', serviceStart: '2027-06-01' });
  // A grant of 2,500 min, then a policy version including 3,000 from July.
  await t.db.pool.query(
    `INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason, status, approved_minutes) VALUES ('LR-cap', 'capped', 2500, 'busy', 'approved', 2500)`,
  );
  await t.db.pool.query(`INSERT INTO subscriber_limits (request_id, subscriber_id, minutes, from_period, until_period) VALUES ('LR-cap', 'capped', 2500, '2027-06', NULL)`);
  await t.db.pool
    .query(`INSERT INTO policies (version, effective_from, included_minutes, overage_rate_micros, rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, currency, state, active_from)
    SELECT 99, '2027-07-01', 3000, overage_rate_micros, rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, currency, 'active', '2027-07-01'
      FROM policies WHERE version = 1`);
  // Back to the default from August, so the other tests of this file rate under 2,400 minutes.
  await t.db.pool
    .query(`INSERT INTO policies (version, effective_from, included_minutes, overage_rate_micros, rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, currency, state, active_from)
    SELECT 100, '2027-08-01', included_minutes, overage_rate_micros, rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, currency, 'active', '2027-08-01'
      FROM policies WHERE version = 1`);
  await givenCalls(t.db.pool, [...callsTotalling('capped', '2027-06-02', minutes(2600)), ...callsTotalling('capped', '2027-07-02', minutes(2900))]);
  const handle = await startCycle('capped', '2027-06');
  await handle.signal(closeCycleSignal, { period: '2027-07' });
  await sleepUntil('2027-08-02T00:00:00Z');
  const [june, july] = await invoicesOf('capped', 2);
  expect(june).toMatchObject({ allowanceSeconds: minutes(2500), overageMinutes: 100 });
  expect(july).toMatchObject({ policyVersion: 99, allowanceSeconds: minutes(3000), overageMinutes: 0, totalCents: 0 });
});

test('a first month from a mid-month start carries the fee and the allowance for its days, and no usage from before the start', async () => {
  // Service from 20 March: 12 of 31 days. Fee 31.00 → 12.00; allowance ⌈2,400 × 12 / 31⌉ = 930 min.
  await givenSubscriber(t.db.pool, { id: 'newbie', serviceStart: '2027-03-20', monthlyFeeCents: 3100 });
  await givenCalls(t.db.pool, [
    { subscriber: 'newbie', start: '2027-03-10 10:00:00', seconds: minutes(500) }, // before the start: kept, never rated
    ...callsTotalling('newbie', '2027-03-20', minutes(1000)),
  ]);
  const handle = await startCycle('newbie', '2027-03');
  await handle.signal(closeCycleSignal, { period: '2027-04' });
  await sleepUntil('2027-05-02T00:00:00Z');
  await invoicesOf('newbie', 2);
  const march = await getInvoice(t.db.pool, 'INV-2027-03-newbie');
  expect(march).toMatchObject({ usedSeconds: minutes(1000), allowanceSeconds: minutes(930), overageMinutes: 70, totalCents: 1200 + 350 });
  expect(march!.lines.map((l) => [l.description, l.amountCents])).toEqual([
    ['Monthly fee, 2027-03 (12 of 31 days)', 1200],
    ['Overage: 70 min past 930 min', 350],
  ]);
  // April is a whole month.
  expect(await getInvoice(t.db.pool, 'INV-2027-04-newbie')).toMatchObject({ allowanceSeconds: minutes(2400), totalCents: 3100 });
});

test('a call split at a month boundary is rounded once: a 60 s call split 30/30 bills 60 s, not 120 s', async () => {
  await t.db.pool.query('UPDATE policies SET rounding_increment_seconds = 60');
  try {
    await givenSubscriber(t.db.pool, { id: 'split', serviceStart: '2027-01-01' });
    await givenCalls(t.db.pool, [{ subscriber: 'split', start: '2027-01-31 23:59:30', seconds: 60 }]);
    const handle = await startCycle('split', '2027-01');
    await handle.signal(closeCycleSignal, { period: '2027-02' });
    await sleepUntil('2027-03-02T00:00:00Z');
    const invoices = await invoicesOf('split', 2);
    expect(invoices.map((i) => [i.period, i.usedSeconds])).toEqual([
      ['2027-01', 30],
      ['2027-02', 30],
    ]);
  } finally {
    await t.db.pool.query('UPDATE policies SET rounding_increment_seconds = 1');
  }
});

describe('hold signals', () => {
  test('a terminate or suspend nobody decided is rejected and recorded, and billing goes on', async () => {
    await givenSubscriber(t.db.pool, { id: 'typo', serviceStart: '2026-01-01' });
    const handle = await startCycle('typo', '2026-01');
    await handle.signal(terminateSignal, 'oops' as never);
    await handle.signal(terminateSignal, { caseId: 'AC-nobody', reason: 'typed by hand' });
    await handle.signal('suspend', { caseId: 'AC-nobody', reason: 'typed by hand', until: null });
    const status = await until(
      () => handle.query(statusQuery),
      (s) => s.rejectedSignals.length === 3,
    );
    expect(status.rejectedSignals).toEqual([
      'terminate needs {"caseId", "reason"}, got "oops"',
      'terminate for case "AC-nobody" ignored: no abuse case AC-nobody of typo has decided a hold on the account',
      'suspend for case "AC-nobody" ignored: no abuse case AC-nobody of typo has decided a hold on the account',
    ]);
    expect(status).toMatchObject({ state: 'open', termination: null, suspension: null });
    expect(await listInvoices(t.db.pool, { subscriberId: 'typo' })).toEqual([]);
  });
});

describe('terminations', () => {
  async function givenTermination(subscriberId: string, caseId: string, atIso: string): Promise<void> {
    await t.db.pool.query(`INSERT INTO abuse_cases (id, subscriber_id, state, action, reason, decided_at) VALUES ($1, $2, 'terminated', 'terminate', 'resold', $3)`, [
      caseId,
      subscriberId,
      atIso,
    ]);
    await t.db.pool.query(`INSERT INTO account_holds (case_id, subscriber_id, kind, starts_at, reason) VALUES ($1, $2, 'terminated', $3, 'resold')`, [caseId, subscriberId, atIso]);
    await t.db.pool.query(`UPDATE subscribers SET status = 'terminated' WHERE id = $1`, [subscriberId]);
  }

  test('after a month ended but before it closed: that month in full, then only the days of service of the next, and late calls on a final adjustment invoice', async () => {
    await givenSubscriber(t.db.pool, { id: 'leaver', serviceStart: '2028-01-01', monthlyFeeCents: 3000 });
    await givenCalls(t.db.pool, callsTotalling('leaver', '2028-11-02', minutes(2450)));
    const handle = await startCycle('leaver', '2028-11');
    await handle.signal(closeCycleSignal, { period: '2028-11' });
    // The cycle waits for November's grace period; the termination took effect on 1 December, 02:00.
    await until(
      () => handle.query(statusQuery),
      (s) => s.state === 'waiting-for-period-end',
    );
    await givenTermination('leaver', 'AC-leaver', '2028-12-01T02:00:00Z');
    await handle.signal(terminateSignal, { caseId: 'AC-leaver', reason: 'resold' });
    await until(
      () => handle.query(statusQuery),
      (s) => s.termination !== null,
    );
    // Past November's close (1 December 2027, 06:00), before the end of January 2028.
    await sleepUntil('2028-12-03T00:00:00Z');
    const [november, december] = await invoicesOf('leaver', 2);
    expect(november).toMatchObject({ period: '2028-11', overageMinutes: 50, totalCents: 3000 + 250 });
    // 1 of 31 days: 30.00 × 1 / 31 = 0.97; not a fresh month with a full fee.
    expect(december).toMatchObject({ period: '2028-12', totalCents: 97 });
    expect((await getInvoice(t.db.pool, 'INV-2028-12-leaver'))!.lines[0]!.description).toBe('Monthly fee, 2028-12 (1 of 31 days)');

    // Late calls of November arrive after the end: billed once on a final adjustment invoice.
    await givenCalls(t.db.pool, [{ subscriber: 'leaver', start: '2028-11-29 10:00:00', seconds: minutes(30) }], { source: 'late-switch' });
    await sleepUntil('2029-02-02T00:00:00Z');
    const after = await invoicesOf('leaver', 3);
    expect(after.map((i) => [i.period, i.totalCents])).toEqual([
      ['2028-11', 3250],
      ['2028-12', 97],
      ['2029-01', 150],
    ]);
    expect((await getInvoice(t.db.pool, 'INV-2029-01-leaver'))!.lines.map((l) => [l.kind, l.description])).toEqual([['adjustment', 'Late calls for 2028-11: +30 min overage']]);
    // Months with no late calls write nothing; then the cycle stops.
    await sleepUntil('2029-05-02T00:00:00Z');
    await until(
      async () => (await handle.describe()).status.name,
      (name) => name === 'COMPLETED',
    );
    expect(await listInvoices(t.db.pool, { subscriberId: 'leaver' })).toHaveLength(3);
    const chain = await runChain(t.env.client, subscriberWorkflowId('leaver'), handle.firstExecutionRunId);
    recordHistory('subscriber-cycle-marked-calls-terminated-in-grace', chain[0]!.history);
    recordHistory('subscriber-cycle-marked-calls-final-adjustments', chain[1]!.history);
  });
  test('a termination within the month that reaches the cycle only in its grace period: that month is the last, prorated; no fresh month', async () => {
    await givenSubscriber(t.db.pool, { id: 'delayed', serviceStart: '2029-01-01', monthlyFeeCents: 3000 });
    const handle = await startCycle('delayed', '2029-09');
    await handle.signal(closeCycleSignal, { period: '2029-09' });
    await until(
      () => handle.query(statusQuery),
      (s) => s.state === 'waiting-for-period-end',
    );
    // Decided on 20 September; the signal arrives late, while September waits for its grace period.
    await givenTermination('delayed', 'AC-delayed', '2029-09-20T12:00:00Z');
    await handle.signal(terminateSignal, { caseId: 'AC-delayed', reason: 'resold' });
    await until(
      () => handle.query(statusQuery),
      (s) => s.termination !== null,
    );
    await sleepUntil('2029-10-02T00:00:00Z');
    const [september] = await invoicesOf('delayed', 1);
    // 20 of 30 days: 30.00 × 20 / 30 = 20.00.
    expect(september).toMatchObject({ period: '2029-09', totalCents: 2000 });
    expect(
      await until(
        () => handle.query(statusQuery),
        (s) => s.state === 'terminated',
      ),
    ).toMatchObject({ period: '2029-09' });
    expect(await listInvoices(t.db.pool, { subscriberId: 'delayed' })).toHaveLength(1);
  });
});

test('a close that can never succeed fails visibly and waits instead of retrying for ever', async () => {
  // Inserted behind the CLI's back: a service start before the first policy version.
  await givenSubscriber(t.db.pool, { id: 'ancient', serviceStart: '1970-01-01' });
  const handle = await startCycle('ancient', '1970-01');
  await handle.signal(closeCycleSignal, { period: '1970-01' });
  const status = await until(
    () => handle.query(statusQuery),
    (s) => s.state === 'close-failed',
  );
  expect(status.closeFailure).toBe('no policy version is in effect on 1970-01-01: the month begins before the first policy version took effect');
  const { rows } = await t.db.pool.query(`SELECT subscriber_id, period, reason FROM close_failures WHERE subscriber_id = 'ancient'`);
  expect(rows).toEqual([{ subscriber_id: 'ancient', period: '1970-01', reason: expect.stringContaining('no policy version is in effect') }]);
  recordHistory('subscriber-cycle-marked-calls-close-failed', await handle.fetchHistory());
});

test('an approval in the grace window after a month ends applies to that month, checked and started from one reading of the time', async () => {
  await insertStaff(t.db.pool, { id: 'sam', email: 'sam@support.test' });
  await givenSubscriber(t.db.pool, { id: 'edge', business: true, serviceStart: '2029-12-01', monthlyFeeCents: 1000 });
  await givenCalls(t.db.pool, callsTotalling('edge', '2029-12-02', minutes(3000)));
  const cycle = await startCycle('edge', '2029-12');
  await cycle.signal(closeCycleSignal, { period: '2029-12' });
  await sleepUntil('2029-12-31T12:00:00Z');
  const request = await createLimitRequest(t.db.pool, { subscriberId: 'edge', minutes: 3500, reason: 'Year-end rush', actor: 'test' });
  const handle = await t.env.client.workflow.start(limitRequestWorkflow, {
    workflowId: limitRequestWorkflowId(request.id),
    taskQueue,
    args: [
      {
        requestId: request.id,
        subscriberId: 'edge',
        requestedMinutes: 3500,
        timezone: 'UTC',
        currentLimitMinutes: 2400,
        ceilingMinutes: 20_000,
        reminderHours: 48,
        expiryDays: 14,
      },
    ],
  });
  // 1 January 2030, 02:00 UTC: December has ended, its close waits for the 6 h grace period.
  await sleepUntil('2030-01-01T02:00:00Z');
  await handle.signal(approveSignal, { reviewer: 'sam', until: '2029-12' });
  const settled = await until(
    () => handle.query(limitRequestStatusQuery),
    (s) => s.settled,
  );
  expect(settled).toMatchObject({ state: 'approved', fromPeriod: '2029-12', decision: { untilPeriod: '2029-12' }, rejectedDecisions: [] });
  expect(await limitGrantsFor(t.db.pool, 'edge')).toEqual([{ requestId: request.id, minutes: 3500, fromPeriod: '2029-12', untilPeriod: '2029-12' }]);
  await sleepUntil('2030-01-02T00:00:00Z');
  const [december] = await invoicesOf('edge', 1);
  expect(december).toMatchObject({ period: '2029-12', allowanceSeconds: minutes(3500), overageMinutes: 0, totalCents: 1000 });
  recordHistory('limit-request-approved-in-grace', await handle.fetchHistory());
});

// Last: after this outage the time-skipping server was seen not to skip time for the tests that followed
// it in this file (the cause is not found yet; each test passes on its own).
test('an SMTP outage does not stop invoicing: the invoice is written, its mail goes out once the server is back', async () => {
  await givenSubscriber(t.db.pool, { id: 'outage', serviceStart: '2028-01-01', monthlyFeeCents: 500 });
  t.smtp.setDown(true);
  try {
    const handle = await startCycle('outage', '2028-01');
    await handle.signal(closeCycleSignal, { period: '2028-02' });
    await sleepUntil('2028-03-02T00:00:00Z');
    // Both months are invoiced while no mail can go out.
    const invoices = await invoicesOf('outage', 2);
    expect(invoices.map((i) => i.period)).toEqual(['2028-01', '2028-02']);
    expect(
      await until(
        () => handle.query(statusQuery),
        (s) => s.period === '2028-03',
      ),
    ).toMatchObject({ closedCycles: 2 });
  } finally {
    t.smtp.setDown(false);
  }
  await until(
    async () => (await t.db.pool.query(`SELECT count(*)::int AS n FROM email_outbox WHERE subscriber_id = 'outage' AND purpose = 'invoice' AND status = 'sent'`)).rows[0].n,
    (n) => n === 2,
    90_000,
  );
  expect(
    t.smtp.received
      .filter((m) => m.to.includes('outage@example.test'))
      .map((m) => m.subject)
      .sort(),
  ).toEqual(['Your RedConnect invoice for 2028-01: 5.00 USD', 'Your RedConnect invoice for 2028-02: 5.00 USD']);
});
