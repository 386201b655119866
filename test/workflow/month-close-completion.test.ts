/**
 * When a month's close is complete (issue 12, items 3, 4 and 16), on the time-skipping server with
 * real PostgreSQL and SMTP: both sides count the subscribers billable for the month (a subscriber
 * terminated during it is one, with their final invoice; one terminated before it is not); the
 * waiting phase continues as new and asks subscribers added after the fan-out passed their id;
 * a subscriber whose close failed for good, and an invoice whose email was refused for good, count
 * as finished and are reported.
 *
 * The closes here are of the month in progress (or, for the mail test, of a month long past):
 * the test server's clock only moves when a test awaits a running workflow's result, so the
 * subscribers still open stay open for as long as a test needs.
 */
import { periodOf, previousPeriod } from '../../billing/periods';
import { progressQuery, monthCloseWorkflowId, statusQuery, subscriberWorkflowId } from '../../workflows/messages';
import { monthCloseWorkflow } from '../../workflows/month-close';
import { cliAgainst } from '../helpers/cli';
import { givenSubscriber } from '../helpers/fixtures';
import { useTimeSkippingWorker } from '../helpers/harness';
import { recordHistory, runChain } from '../helpers/histories';
import { TEST_OPS_EMAIL } from '../helpers/temporal';
import { givenTerminationDecided, tellEntityTerminated } from '../helpers/termination';
import { until } from '../helpers/wait';

const taskQueue = 'month-close-completion-test';
const t = useTimeSkippingWorker(taskQueue);

const NO_POLICY = 'no policy version is in effect on 1970-01-01';
/** What a cycle that starts before the first policy version records. */
const NO_POLICY_CYCLE = `${NO_POLICY}: the month begins before the first policy version took effect`;

async function outbox(key: string): Promise<{ status: string; attempts: number; text: string } | undefined> {
  const { rows } = await t.db.pool.query('SELECT status, attempts, text_body AS text FROM email_outbox WHERE idempotency_key = $1', [key]);
  return rows[0];
}

async function statusOf(workflowId: string): Promise<string> {
  return (await t.env.client.workflow.getHandle(workflowId).describe()).status.name;
}

test("a close waits for every subscriber billable for the month, a terminated one's final invoice included, and for one added after the fan-out; failures finish it and are listed", async () => {
  const nowMs = await t.env.currentTimeMs();
  const month = periodOf(nowMs, 'UTC');
  // In service this month: one still open (its month is not over), one terminated during it.
  await givenSubscriber(t.db.pool, { id: 'open-1', serviceStart: `${month}-01`, monthlyFeeCents: 1000 });
  await givenSubscriber(t.db.pool, { id: 'term-1', serviceStart: `${month}-01`, monthlyFeeCents: 1000 });
  // Terminated last month: not billed for this one.
  const lastMonth = previousPeriod(month);
  await givenSubscriber(t.db.pool, { id: 'gone-1', serviceStart: `${lastMonth}-01`, monthlyFeeCents: 1000 });
  await givenTerminationDecided(t.db.pool, 'gone-1', Date.parse(`${lastMonth}-02T12:00:00Z`));

  // term-1 is terminated now: its cycle writes and mails the final invoice for the month so far.
  const caseId = await givenTerminationDecided(t.db.pool, 'term-1', nowMs);
  await tellEntityTerminated(t.env.client, taskQueue, 'term-1', month, caseId);
  await until(
    () => outbox(`invoice:INV-${month}-term-1`),
    (o) => o?.status === 'sent',
  );

  const handle = await t.env.client.workflow.start(monthCloseWorkflow, {
    workflowId: monthCloseWorkflowId(month),
    taskQueue,
    args: [{ period: month, batchSize: 10, waitSeconds: 1, waitPollsPerRun: 3 }],
  });
  const latest = t.env.client.workflow.getHandle(monthCloseWorkflowId(month));
  // When the close has waited long enough to continue as new (or has finished),
  const described = await until(
    () => latest.describe(),
    (d) => d.status.name !== 'RUNNING' || d.runId !== handle.firstExecutionRunId,
    60_000,
  );
  const seen = { runId: described.runId, progress: await latest.query(progressQuery) };
  // it still waits for open-1: two billable subscribers, one invoice, mailed.
  expect(seen.progress).toMatchObject({ phase: 'waiting-for-cycles', subscribers: 2, requested: 1, invoices: 1, emailed: 1, mailFailed: 0, failed: 0 });
  expect(await statusOf(monthCloseWorkflowId(month))).toBe('RUNNING');
  expect(await outbox(`close-summary:${month}`)).toBeUndefined();

  // A subscriber added now, in service since this month, whose id the fan-out has passed,
  await givenSubscriber(t.db.pool, { id: 'a-late', serviceStart: `${month}-02`, monthlyFeeCents: 1000 });
  // is asked to close the month by the waiting close.
  const lateStatus = await until(
    () =>
      t.env.client.workflow
        .getHandle(subscriberWorkflowId('a-late'))
        .query(statusQuery)
        .catch(() => undefined),
    (s) => s?.pendingCloses.includes(month) === true,
    60_000,
  );
  expect(lateStatus).toMatchObject({ period: month, pendingCloses: [month] });

  // Their closes fail for good (as the subscriber's workflow records it): the close is complete.
  await t.db.pool.query(`INSERT INTO close_failures (subscriber_id, period, reason) VALUES ('open-1', $1, $2), ('a-late', $1, $2)`, [month, NO_POLICY]);
  await until(
    () => statusOf(monthCloseWorkflowId(month)),
    (s) => s !== 'RUNNING',
    60_000,
  );
  const summary = await latest.result();
  const {
    rows: [termInvoice],
  } = await t.db.pool.query(`SELECT total_cents::int AS total FROM invoices WHERE id = $1`, [`INV-${month}-term-1`]);
  expect(summary).toMatchObject({
    period: month,
    complete: true,
    subscribers: 3,
    invoices: 1,
    emailed: 1,
    mailFailed: 0,
    failed: 2,
    totalCents: termInvoice.total,
    failures: [
      { subscriberId: 'a-late', reason: NO_POLICY },
      { subscriberId: 'open-1', reason: NO_POLICY },
    ],
  });
  expect(await latest.query(progressQuery)).toMatchObject({ phase: 'done', failed: 2, failures: summary.failures });

  // Billing operations' summary says so, with the reasons.
  const [mail] = await until(
    () => Promise.resolve(t.smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL))),
    (m) => m.length === 1,
  );
  expect(mail!.subject).toContain(`Monthly close ${month}: 1 invoices`);
  expect(mail!.text).toContain('Subscribers: 3');
  expect(mail!.text).toContain('Invoices written: 1');
  expect(mail!.text).toContain('Subscribers whose close failed: 2');
  expect(mail!.text).toContain(`open-1: ${NO_POLICY}`);
  expect(mail!.text).toContain(`a-late: ${NO_POLICY}`);

  const runs = await runChain(t.env.client, monthCloseWorkflowId(month), handle.firstExecutionRunId);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  recordHistory('month-close-waiting-continued', runs[0]!.history);
  recordHistory('month-close-waiting-completed', runs[runs.length - 1]!.history);
});

test('an invoice whose email the mail server refused for good counts as done; a cycle that failed at an earlier month counts as failed; the summary and `billing close --wait` say so', async () => {
  // A month long past: only these subscribers were in service then.
  const period = '2025-06';
  await givenSubscriber(t.db.pool, { id: 'bounce-1', serviceStart: `${period}-01`, monthlyFeeCents: 1000 });
  // Its cycle starts in a month no policy covers and can never close it.
  await givenSubscriber(t.db.pool, { id: 'nopolicy-1', serviceStart: '1970-01-01', monthlyFeeCents: 1000 });
  t.smtp.setDown(true);
  try {
    const handle = await t.env.client.workflow.start(monthCloseWorkflow, {
      workflowId: monthCloseWorkflowId(period),
      taskQueue,
      args: [{ period, batchSize: 10, waitSeconds: 1 }],
    });
    await until(
      () => outbox(`invoice:INV-${period}-bounce-1`),
      (o) => (o?.attempts ?? 0) >= 1,
      60_000,
    );
    // The mail server's permanent refusal, as the outbox records it: the email ends as failed.
    await t.db.pool.query(`UPDATE email_outbox SET status = 'failed', last_error = '550 5.1.1 Recipient address rejected' WHERE idempotency_key = $1`, [
      `invoice:INV-${period}-bounce-1`,
    ]);
    // nopolicy-1's cycle fails visibly at its first month: its workflow records why.
    const failure = await until(
      async () => (await t.db.pool.query(`SELECT period, reason FROM close_failures WHERE subscriber_id = 'nopolicy-1'`)).rows[0],
      (r) => r !== undefined,
      60_000,
    );
    expect(failure).toEqual({ period: '1970-01', reason: NO_POLICY_CYCLE });

    // The close is complete: its summary for billing operations is queued.
    const summaryMail = await until(
      () => outbox(`close-summary:${period}`),
      (o) => o !== undefined,
      60_000,
    );
    expect(summaryMail!.text).toContain('Subscribers: 2');
    expect(summaryMail!.text).toContain('Invoices written: 1');
    expect(summaryMail!.text).toContain('Invoices mailed: 0');
    expect(summaryMail!.text).toContain('Invoice emails refused by the mail server: 1');
    expect(summaryMail!.text).toContain(`nopolicy-1: ${NO_POLICY_CYCLE} (closing 1970-01)`);
    t.smtp.setDown(false);
    await until(
      () => statusOf(monthCloseWorkflowId(period)),
      (s) => s !== 'RUNNING',
      60_000,
    );
    expect(await handle.result()).toMatchObject({
      period,
      complete: true,
      subscribers: 2,
      invoices: 1,
      emailed: 0,
      mailFailed: 1,
      failed: 1,
      failures: [{ subscriberId: 'nopolicy-1', reason: `${NO_POLICY_CYCLE} (closing 1970-01)` }],
    });
  } finally {
    t.smtp.setDown(false);
  }

  // Run again from the CLI, the close finds it all done and lists the failure.
  const billing = cliAgainst(() => ({ env: t.env, databaseUrl: t.db.url, taskQueue }));
  const closed = await billing('close', '--period', period, '--wait');
  expect(closed.stderr).toBe('');
  expect(closed.stdout).toContain(`closed ${period}: 1 invoice for 2 subscribers, `);
  expect(closed.stdout).toContain('mail failed');
  expect(closed.stdout).toContain('failed:  1 subscriber without an invoice');
  expect(closed.stdout).toContain(`nopolicy-1: ${NO_POLICY_CYCLE} (closing 1970-01)`);
});
