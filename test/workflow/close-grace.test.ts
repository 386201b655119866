/**
 * The grace period is one setting, the worker's (issue 12, item 11): a termination's close and a
 * month close started without one (as `billing close` and the Schedule start it) both use the
 * worker's BILLING_CLOSE_GRACE_HOURS, here 2 h, not a constant 6 h.
 */
import { periodBounds, periodOf } from '../../billing/periods';
import { monthCloseWorkflowId, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';
import { recordHistory, runChain } from '../helpers/histories';
import { givenTerminationDecided, tellEntityTerminated } from '../helpers/termination';
import { until } from '../helpers/wait';

const taskQueue = 'close-grace-test';
const t = useTimeSkippingWorker(taskQueue, { closeGraceHours: 2 });

const invoiceOf = async (subscriberId: string, period: string): Promise<string | undefined> =>
  (await t.db.pool.query('SELECT id FROM invoices WHERE subscriber_id = $1 AND period = $2', [subscriberId, period])).rows[0]?.id;

test("a termination after the month ended closes the month after the worker's grace period", async () => {
  const month = periodOf(await t.env.currentTimeMs(), 'UTC');
  await givenSubscriber(t.db.pool, { id: 'gus', serviceStart: `${month}-01`, monthlyFeeCents: 1000 });
  const started = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('gus'), taskQueue, args: [{ subscriberId: 'gus', period: month }] });

  // Half an hour after the month ended, gus is terminated: the month closes as usual, after the grace period.
  await t.env.sleep(periodBounds(month, 'UTC').endMs + 30 * 60_000 - (await t.env.currentTimeMs()));
  const caseId = await givenTerminationDecided(t.db.pool, 'gus', await t.env.currentTimeMs());
  await tellEntityTerminated(t.env.client, taskQueue, 'gus', month, caseId);
  const entity = t.env.client.workflow.getHandle(subscriberWorkflowId('gus'));
  await until(
    () => entity.query(statusQuery),
    (s) => s.state === 'waiting-for-period-end',
  );

  // 2 h after the month's end, not 6 h.
  await t.env.sleep('100 minutes');
  expect(
    await until(
      () => invoiceOf('gus', month),
      (id) => id !== undefined,
    ),
  ).toBe(`INV-${month}-gus`);
  const [run] = await runChain(t.env.client, subscriberWorkflowId('gus'), started.firstExecutionRunId);
  recordHistory('subscriber-cycle-grace-from-worker', run!.history);
});

test("a close started without a grace period asks each subscriber to close with the worker's", async () => {
  const month = periodOf(await t.env.currentTimeMs(), 'UTC');
  await givenSubscriber(t.db.pool, { id: 'gil', serviceStart: `${month}-01`, monthlyFeeCents: 1000 });
  // Started as `billing close` and the Schedule start it: no grace period of its own.
  const close = await t.env.client.workflow.start(monthCloseWorkflow, { workflowId: monthCloseWorkflowId(month), taskQueue, args: [{ period: month, batchSize: 10 }] });
  const entity = t.env.client.workflow.getHandle(subscriberWorkflowId('gil'));
  await until(
    () => entity.query(statusQuery).catch(() => undefined),
    (s) => s?.state === 'waiting-for-period-end',
  );
  const { events } = await entity.fetchHistory();
  const signalled = events!
    .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'closeCycle')
    .map((e) => JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!).toString()));
  expect(signalled).toEqual([{ period: month, graceHours: 2 }]);
  await close.terminate('seen what the test needs');
});
