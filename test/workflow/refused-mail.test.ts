/**
 * A subscriber whose mail server refuses their address for good (550) on the time-skipping server
 * (issue 12, item 4): each month's invoice is written and its email failed with the server's
 * answer, billing operations are told once per email, and the cycle goes on to the next month
 * instead of retrying the mail for ever.
 */
import { listInvoices } from '../../db/invoices';
import { closeCycleSignal, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';
import { TEST_OPS_EMAIL } from '../helpers/temporal';
import { until } from '../helpers/wait';

const taskQueue = 'refused-mail-test';
const t = useTimeSkippingWorker(taskQueue);

test('a recipient refused with 550 fails each invoice email once, alerts ops once each, and the following months still close', async () => {
  t.smtp.refuseRecipient('gone@example.test');
  await givenSubscriber(t.db.pool, { id: 'gone', email: 'gone@example.test', monthlyFeeCents: 1000, serviceStart: '2026-11-01' });
  const handle = await t.env.client.workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('gone'),
    taskQueue,
    args: [{ subscriberId: 'gone', period: '2026-11' }],
  });
  await handle.signal(closeCycleSignal, { period: '2027-01' });
  await t.env.sleep('70 days');

  // Every month closed: the cycle waits in February.
  await until(
    () => handle.query(statusQuery),
    (s) => s.period === '2027-02' && s.closedCycles === 3,
    60_000,
  );
  expect((await listInvoices(t.db.pool, { subscriberId: 'gone' })).map((i) => [i.period, i.totalCents])).toEqual([
    ['2026-11', 1000],
    ['2026-12', 1000],
    ['2027-01', 1000],
  ]);
  const { rows } = await t.db.pool.query(
    `SELECT idempotency_key AS key, status, attempts, last_error AS "lastError" FROM email_outbox WHERE subscriber_id = 'gone' ORDER BY idempotency_key`,
  );
  expect(rows.filter((r) => r.key.startsWith('invoice:'))).toEqual(
    ['2026-11', '2026-12', '2027-01'].map((period) => ({
      key: `invoice:INV-${period}-gone`,
      status: 'failed',
      attempts: 1,
      lastError: expect.stringMatching(/^550 5\.1\.1 No such user here/),
    })),
  );
  expect(rows.filter((r) => r.key.startsWith('mail-failed:')).map((r) => [r.key, r.status])).toEqual(
    ['2026-11', '2026-12', '2027-01'].map((period) => [`mail-failed:invoice:INV-${period}-gone`, 'sent']),
  );
  // Billing operations got one alert per refused invoice email, naming the address and the answer.
  const alerts = t.smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL));
  expect(alerts.map((m) => m.subject)).toEqual(['invoice', 'invoice', 'invoice'].map((purpose) => `Mail refused: ${purpose} to gone@example.test`));
  expect(alerts[0]!.text).toContain('550 5.1.1 No such user here');
  expect(t.smtp.received.filter((m) => m.to.includes('gone@example.test'))).toEqual([]);
});
