/**
 * DESIGN, "Targets": at most 200 events per subscriber cycle; 120 simulated cycles of one
 * subscriber run under time skipping. Continue-as-new after every close keeps each run small.
 */
import { listInvoices } from '../../db/invoices';
import { closeCycleSignal, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { givenCalls, givenSubscriber } from '../helpers/fixtures';
import { runChain } from '../helpers/histories';
import { useTimeSkippingWorker } from '../helpers/harness';

const t = useTimeSkippingWorker('decade');

test('120 monthly cycles of one subscriber: one invoice each, every run under 200 events', async () => {
  await givenSubscriber(t.db.pool, { id: 'decade', timezone: 'Europe/Lisbon', monthlyFeeCents: 999, serviceStart: '2027-01-01' });
  // Some months run over, a few in a row, so plans and streaks take part too.
  await givenCalls(
    t.db.pool,
    Array.from({ length: 40 }, (_, i) => ({ subscriber: 'decade', start: `${2027 + Math.floor(i / 4)}-0${1 + (i % 4)}-10 12:00:00`, seconds: 2500 * 60 })),
  );
  const handle = await t.env.client.workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('decade'),
    taskQueue: 'decade',
    args: [{ subscriberId: 'decade', period: '2027-01' }],
  });
  await handle.signal(closeCycleSignal, { period: '2036-12' });
  await t.env.sleep(`${11 * 366} days`);
  const deadline = Date.now() + 120_000;
  while ((await handle.query(statusQuery)).period !== '2037-01') {
    if (Date.now() > deadline) throw new Error(`stuck at ${(await handle.query(statusQuery)).period}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await listInvoices(t.db.pool, { subscriberId: 'decade' })).toHaveLength(120);
  const runs = await runChain(t.env.client, subscriberWorkflowId('decade'), handle.firstExecutionRunId);
  expect(runs).toHaveLength(121);
  const longest = Math.max(...runs.map((r) => r.history.events!.length));
  expect(longest).toBeLessThanOrEqual(200);
});
