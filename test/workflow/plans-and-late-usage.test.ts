/**
 * Recurring overage and late usage over many months of one subscriber, on the time-skipping
 * server with real PostgreSQL and SMTP: minute plans chosen by the DESIGN rule and mailed, and
 * late calls charged on the next invoice as exactly the difference they make, once.
 */
import { getInvoice, listInvoices } from '../../db/invoices';
import { closeCycleSignal, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { until } from '../helpers/wait';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';

const taskQueue = 'plans-test';

const t = useTimeSkippingWorker(taskQueue);

const minutes = (m: number): number => m * 60;

test('three months over add the plan that covers the average; still over with a plan moves up by the same rule', async () => {
  await givenSubscriber(t.db.pool, { id: 'heavy', monthlyFeeCents: 1000, serviceStart: '2027-01-01', name: 'Hana Heavy' });
  const usage: [string, number][] = [['2027-01', 2500], ['2027-02', 2700], ['2027-03', 2600], ['2027-04', 3600], ['2027-05', 3700], ['2027-06', 3800], ['2027-07', 2400]];
  for (const [period, used] of usage) await givenCalls(t.db.pool, callsTotalling('heavy', `${period}-02`, minutes(used)));
  const handle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('heavy'), taskQueue, args: [{ subscriberId: 'heavy', period: '2027-01' }] });
  await handle.signal(closeCycleSignal, { period: '2027-07' });
  await t.env.sleep('300 days');
  const invoices = await until(() => listInvoices(t.db.pool, { subscriberId: 'heavy' }), (list) => list.length === 7);

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
  expect(april!.lines.map((l) => [l.kind, l.amountCents])).toEqual([['monthly-fee', 1000], ['minute-plan', 1500], ['overage', 3500]]);
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
  const handle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('late'), taskQueue, args: [{ subscriberId: 'late', period: '2028-01' }] });
  await handle.signal(closeCycleSignal, { period: '2028-01' });
  await t.env.sleep('450 days');
  await until(() => listInvoices(t.db.pool, { subscriberId: 'late' }), (list) => list.length === 1);

  // Calls of January arrive after January was invoiced: 30 more minutes.
  const late = await givenCalls(t.db.pool, [{ subscriber: 'late', start: '2028-01-30 09:00:00', seconds: minutes(30) }], { source: 'late-switch' });
  expect(late.late).toBe(1);
  await givenCalls(t.db.pool, callsTotalling('late', '2028-02-02', minutes(100)));
  await handle.signal(closeCycleSignal, { period: '2028-02' });
  await t.env.sleep('40 days');
  await until(() => listInvoices(t.db.pool, { subscriberId: 'late' }), (list) => list.length === 2);
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
  await until(() => listInvoices(t.db.pool, { subscriberId: 'late' }), (list) => list.length === 3);
  const march = await getInvoice(t.db.pool, 'INV-2028-03-late');
  expect(march!.lines.filter((l) => l.kind === 'adjustment').map((l) => [l.description, l.amountCents])).toEqual([['Late calls for 2028-01: +10 min overage', 50]]);

  // A month with no new late calls carries no adjustment.
  await handle.signal(closeCycleSignal, { period: '2028-04' });
  await t.env.sleep('40 days');
  await until(() => listInvoices(t.db.pool, { subscriberId: 'late' }), (list) => list.length === 4);
  expect((await getInvoice(t.db.pool, 'INV-2028-04-late'))!.lines.map((l) => l.kind)).toEqual(['monthly-fee']);
});
