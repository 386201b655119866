/**
 * Recurring overage and late usage over many months of one subscriber, on the time-skipping
 * server with real PostgreSQL and SMTP: minute plans chosen by the DESIGN rule and mailed, and
 * late calls charged on the next invoice as exactly the difference they make, once.
 */
import { getInvoice, listInvoices } from '../../db/invoices';
import { closeCycleSignal, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { until } from '../helpers/wait';
import { recordHistory, runChain } from '../helpers/histories';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';

const taskQueue = 'plans-test';

const t = useTimeSkippingWorker(taskQueue);

const minutes = (m: number): number => m * 60;

test('three months over add the plan that covers the average; still over with a plan moves up by the same rule', async () => {
  await givenSubscriber(t.db.pool, { id: 'heavy', monthlyFeeCents: 1000, serviceStart: '2027-01-01', name: 'Hana Heavy' });
  const usage: [string, number][] = [
    ['2027-01', 2500],
    ['2027-02', 2700],
    ['2027-03', 2600],
    ['2027-04', 3600],
    ['2027-05', 3700],
    ['2027-06', 3800],
    ['2027-07', 2400],
  ];
  for (const [period, used] of usage) await givenCalls(t.db.pool, callsTotalling('heavy', `${period}-02`, minutes(used)));
  const handle = await t.env.client.workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('heavy'),
    taskQueue,
    args: [{ subscriberId: 'heavy', period: '2027-01' }],
  });
  await handle.signal(closeCycleSignal, { period: '2027-07' });
  await t.env.sleep('300 days');
  const invoices = await until(
    () => listInvoices(t.db.pool, { subscriberId: 'heavy' }),
    (list) => list.length === 7,
  );

  // Jan-Mar: 100, 300, 200 min over → average 200 → the 500-minute plan (15.00) from April.
  // Apr-Jun with it (allowance 2,900): 700, 800, 900 over → average 800; 500 + 800 = 1,300 → the
  // 2,500-minute plan (50.00) from July, whose 4,900 minutes cover July's 2,400.
  expect(invoices.map((i) => [i.period, i.overageMinutes, i.totalCents])).toEqual([
    ['2027-01', 100, 1000 + 500],
    ['2027-02', 300, 1000 + 1500],
    ['2027-03', 200, 1000 + 1000],
    ['2027-04', 700, 1000 + 1500 + 3500],
    ['2027-05', 800, 1000 + 1500 + 4000],
    ['2027-06', 900, 1000 + 1500 + 4500],
    ['2027-07', 0, 1000 + 5000],
  ]);
  const april = await getInvoice(t.db.pool, 'INV-2027-04-heavy');
  expect(april!.lines.map((l) => [l.kind, l.amountCents])).toEqual([
    ['monthly-fee', 1000],
    ['minute-plan', 1500],
    ['overage', 3500],
  ]);
  expect(april!.allowanceSeconds).toBe(minutes(2900));

  const planMail = t.smtp.received.filter((m) => m.subject.includes('-minute plan is added'));
  expect(planMail.map((m) => m.subject)).toEqual([
    'A 500-minute plan is added to your RedConnect account from 2027-04',
    'A 2500-minute plan is added to your RedConnect account from 2027-07',
  ]);
  expect(planMail[0]!.text).toContain('2027-01: 100 min over');
  expect(planMail[0]!.text).toContain('15.00 USD a month');
  expect(planMail[1]!.text).toContain('your 500-minute plan becomes a 2500-minute plan for 50.00 USD a month');
  // The streak restarted after the second plan; July broke it anyway.
  expect((await handle.query(statusQuery)).period).toBe('2027-08');
});

test('late calls for a closed month are charged on the next invoice as the difference they make, once', async () => {
  await givenSubscriber(t.db.pool, { id: 'late', monthlyFeeCents: 1000, serviceStart: '2028-01-01' });
  await givenCalls(t.db.pool, callsTotalling('late', '2028-01-02', minutes(2450))); // 50 min over
  const handle = await t.env.client.workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('late'),
    taskQueue,
    args: [{ subscriberId: 'late', period: '2028-01' }],
  });
  await handle.signal(closeCycleSignal, { period: '2028-01' });
  await t.env.sleep('450 days');
  await until(
    () => listInvoices(t.db.pool, { subscriberId: 'late' }),
    (list) => list.length === 1,
  );

  // Calls of January arrive after January was invoiced: 30 more minutes.
  const late = await givenCalls(t.db.pool, [{ subscriber: 'late', start: '2028-01-30 09:00:00', seconds: minutes(30) }], { source: 'late-switch' });
  expect(late.late).toBe(1);
  await givenCalls(t.db.pool, callsTotalling('late', '2028-02-02', minutes(100)));
  await handle.signal(closeCycleSignal, { period: '2028-02' });
  await t.env.sleep('40 days');
  await until(
    () => listInvoices(t.db.pool, { subscriberId: 'late' }),
    (list) => list.length === 2,
  );
  const february = await getInvoice(t.db.pool, 'INV-2028-02-late');
  expect(february!.lines.map((l) => [l.kind, l.description, l.amountCents])).toEqual([
    ['monthly-fee', 'Monthly fee, 2028-02', 1000],
    ['adjustment', 'Late calls for 2028-01: +30 min overage', 150],
  ]);
  expect(february!.totalCents).toBe(1150);

  // Ten more late minutes: March's invoice charges only those.
  await givenCalls(t.db.pool, [{ subscriber: 'late', start: '2028-01-31 09:00:00', seconds: minutes(10) }], { source: 'late-switch' });
  await handle.signal(closeCycleSignal, { period: '2028-03' });
  await t.env.sleep('40 days');
  await until(
    () => listInvoices(t.db.pool, { subscriberId: 'late' }),
    (list) => list.length === 3,
  );
  const march = await getInvoice(t.db.pool, 'INV-2028-03-late');
  expect(march!.lines.filter((l) => l.kind === 'adjustment').map((l) => [l.description, l.amountCents])).toEqual([['Late calls for 2028-01: +10 min overage', 50]]);

  // A month with no new late calls carries no adjustment.
  await handle.signal(closeCycleSignal, { period: '2028-04' });
  await t.env.sleep('40 days');
  await until(
    () => listInvoices(t.db.pool, { subscriberId: 'late' }),
    (list) => list.length === 4,
  );
  expect((await getInvoice(t.db.pool, 'INV-2028-04-late'))!.lines.map((l) => l.kind)).toEqual(['monthly-fee']);
});

/** Closes January to July 2027 of a new subscriber with these monthly minutes; returns the invoices. */
async function sevenMonths(id: string, usedMinutes: number[]) {
  await givenSubscriber(t.db.pool, { id, monthlyFeeCents: 1000, serviceStart: '2027-01-01' });
  for (const [i, used] of usedMinutes.entries()) await givenCalls(t.db.pool, callsTotalling(id, `2027-0${i + 1}-02`, minutes(used)));
  const handle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId(id), taskQueue, args: [{ subscriberId: id, period: '2027-01' }] });
  await handle.signal(closeCycleSignal, { period: '2027-07' });
  await t.env.sleep('300 days');
  const invoices = await until(
    () => listInvoices(t.db.pool, { subscriberId: id }),
    (list) => list.length === 7,
  );
  const plans = await t.db.pool.query('SELECT effective_period, minutes, fee_cents::int AS fee, change FROM subscriber_plans WHERE subscriber_id = $1 ORDER BY 1', [id]);
  // June's run decides the change: replayed by the suite (patch minute-plan-removal).
  const runs = await runChain(t.env.client, subscriberWorkflowId(id), handle.firstExecutionRunId);
  recordHistory(`subscriber-cycle-plan-${id === 'fits' ? 'removed' : 'stepped-down'}`, runs[5]!.history);
  return {
    invoices: invoices.map((i) => [i.period, i.overageMinutes, i.totalCents]),
    plans: plans.rows.map((r) => [r.effective_period, r.minutes, r.fee, r.change]),
    mail: t.smtp.received.filter((m) => m.to.includes(`${id}@example.test`)),
  };
}

test('a plan whose minutes three months in a row did not need is removed from the next cycle, with an email', async () => {
  // Jan-Mar over by 100, 300, 200 → the 500-minute plan from April. April-June fit in the 2,400
  // included minutes without it → removed from July, whose 50 minutes over are charged again.
  const { invoices, plans, mail } = await sevenMonths('fits', [2500, 2700, 2600, 2300, 2400, 2000, 2450]);
  expect(invoices).toEqual([
    ['2027-01', 100, 1000 + 500],
    ['2027-02', 300, 1000 + 1500],
    ['2027-03', 200, 1000 + 1000],
    ['2027-04', 0, 1000 + 1500],
    ['2027-05', 0, 1000 + 1500],
    ['2027-06', 0, 1000 + 1500],
    ['2027-07', 50, 1000 + 250],
  ]);
  expect(plans).toEqual([
    ['2027-04', 500, 1500, 'added'],
    ['2027-07', 0, 0, 'removed'],
  ]);
  const july = await getInvoice(t.db.pool, 'INV-2027-07-fits');
  expect(july!.lines.map((l) => l.kind)).toEqual(['monthly-fee', 'overage']);
  expect(july!.allowanceSeconds).toBe(minutes(2400));
  const removal = mail.filter((m) => m.subject === 'Your 500-minute plan is removed from your RedConnect account from 2027-07');
  expect(removal).toHaveLength(1);
  expect(removal[0]!.text).toContain('From 2027-07 your 500-minute plan is removed: its 15.00 USD a month is no longer charged.');
  expect(removal[0]!.text).toContain('2027-04: within the allowance without a plan');
  expect(removal[0]!.text).toContain('2027-06: within the allowance without a plan');
});

test('a plan larger than three months needed steps down to the smallest that covered each of them', async () => {
  // Jan-Mar over by 1,600, 1,700, 1,800 → the 2,500-minute plan (50.00) from April. Without it,
  // April-June would be 300, 600, 200 min over: the 1,000-minute plan (25.00) covers each, from July.
  const { invoices, plans, mail } = await sevenMonths('stepper', [4000, 4100, 4200, 2700, 3000, 2600, 3000]);
  expect(invoices).toEqual([
    ['2027-01', 1600, 1000 + 8000],
    ['2027-02', 1700, 1000 + 8500],
    ['2027-03', 1800, 1000 + 9000],
    ['2027-04', 0, 1000 + 5000],
    ['2027-05', 0, 1000 + 5000],
    ['2027-06', 0, 1000 + 5000],
    ['2027-07', 0, 1000 + 2500],
  ]);
  expect(plans).toEqual([
    ['2027-04', 2500, 5000, 'added'],
    ['2027-07', 1000, 2500, 'stepped-down'],
  ]);
  expect((await getInvoice(t.db.pool, 'INV-2027-07-stepper'))!.allowanceSeconds).toBe(minutes(3400));
  const stepDown = mail.filter((m) => m.subject === 'Your RedConnect minute plan becomes a 1000-minute plan from 2027-07');
  expect(stepDown).toHaveLength(1);
  expect(stepDown[0]!.text).toContain('From 2027-07 your 2500-minute plan becomes a 1000-minute plan for 25.00 USD a month (instead of 50.00).');
  expect(stepDown[0]!.text).toContain('2027-05: 600 min past the allowance without a plan');
});
