/**
 * Limit-increase requests on the time-skipping server, with real PostgreSQL and SMTP: support's
 * decision by signal, its effect on the month's invoice, the end month, the reminder at 48 h, the
 * expiry at 14 days, invalid decisions recorded and ignored, each email exactly once, and the
 * CLI's exit 2 on decisions that break the rules.
 */
import { nextPeriod, periodOf } from '../../billing/periods';
import { getInvoice } from '../../db/invoices';
import { createLimitRequest, getLimitRequest, limitGrantsFor, limitRequestEvents } from '../../db/limit-requests';
import { insertStaff } from '../../db/staff';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import {
  approveSignal,
  approveUpdate,
  closeCycleSignal,
  limitRequestStatusQuery,
  limitRequestWorkflowId,
  rejectSignal,
  rejectUpdate,
  statusQuery,
  subscriberWorkflowId,
  type LimitRequestStatus,
} from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { cliAgainst } from '../helpers/cli';
import { recordHistory } from '../helpers/histories';
import { outboxRows, untilAtRest, until } from '../helpers/wait';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { TEST_SUPPORT_EMAIL } from '../helpers/temporal';
import { useTimeSkippingWorker } from '../helpers/harness';
import { acceptedUpdates, refusal } from '../helpers/updates';

const taskQueue = 'limit-requests-test';

const t = useTimeSkippingWorker(taskQueue);
beforeAll(async () => {
  await insertStaff(t.db.pool, { id: 'sam', email: 'sam@support.test' });
  await insertStaff(t.db.pool, { id: 'old', email: 'old@support.test' });
  await t.db.pool.query(`UPDATE support_staff SET active = false WHERE id = 'old'`);
});

const minutes = (m: number): number => m * 60;
/** The month in progress by the test server's clock, which earlier tests have moved on. */
const currentPeriod = async (): Promise<string> => periodOf(await t.env.currentTimeMs(), 'UTC');

/** What `billing limit request` does once it has checked the input: record it, start its workflow. */
async function givenRequest(subscriberId: string, requestedMinutes: number) {
  const request = await createLimitRequest(t.db.pool, { subscriberId, minutes: requestedMinutes, reason: 'Call centre season', actor: 'test' });
  const handle = await t.env.client.workflow.start(limitRequestWorkflow, {
    workflowId: limitRequestWorkflowId(request.id),
    taskQueue,
    args: [{ requestId: request.id, subscriberId, requestedMinutes, timezone: 'UTC', currentLimitMinutes: 2400, ceilingMinutes: 20_000, reminderHours: 48, expiryDays: 14 }],
  });
  await until(
    () => Promise.resolve(mailAbout(request.id).length),
    (n) => n >= 2,
  ); // acknowledgement and support notice
  return { id: request.id, handle };
}

const mailAbout = (requestId: string) => t.smtp.received.filter((m) => m.subject.includes(requestId) || m.text.includes(requestId));
const status = (handle: { query: (q: typeof limitRequestStatusQuery) => Promise<LimitRequestStatus> }) => () => handle.query(limitRequestStatusQuery);
const kinds = async (requestId: string): Promise<string[]> => (await limitRequestEvents(t.db.pool, requestId)).map((e) => e.kind);

test('an approval by signal applies the new limit to the month in progress, and its invoice uses it; each email once', async () => {
  const period = await currentPeriod();
  await givenSubscriber(t.db.pool, { id: 'acme', business: true, monthlyFeeCents: 5000, serviceStart: `${period}-01` });
  await givenCalls(t.db.pool, callsTotalling('acme', `${period}-01`, minutes(3000)));
  const cycle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('acme'), taskQueue, args: [{ subscriberId: 'acme', period }] });
  const { id, handle } = await givenRequest('acme', 4000);

  await handle.signal(approveSignal, { reviewer: 'sam' });
  const settled = await until(status(handle), (s) => s.settled);
  expect(settled).toMatchObject({ state: 'approved', fromPeriod: period, decision: { kind: 'approve', reviewer: 'sam', minutes: 4000, untilPeriod: null } });
  expect(await limitGrantsFor(t.db.pool, 'acme')).toEqual([{ requestId: id, minutes: 4000, fromPeriod: period, untilPeriod: null }]);
  expect(
    (
      await until(
        () => cycle.query(statusQuery),
        (s) => Boolean(s.limit),
      )
    ).limit,
  ).toMatchObject({ minutes: 4000, fromPeriod: period });

  await cycle.signal(closeCycleSignal, { period });
  await t.env.sleep('40 days');
  const invoice = await until(
    () => getInvoice(t.db.pool, `INV-${period}-acme`),
    (i) => i !== undefined,
  );
  expect(invoice).toMatchObject({ allowanceSeconds: minutes(4000), overageMinutes: 0, totalCents: 5000 });

  expect(await kinds(id)).toEqual(['requested', 'approved', 'applied']);
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'approved', approvedMinutes: 4000, reviewer: 'sam' });
  // 40 days on, the request's workflow has run past its expiry and ended: all it sends is sent.
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect((await outboxRows(t.db.pool, `limit-request:${id}:%`)).map((r) => [r.key, r.status])).toEqual([
    [`limit-request:${id}:acknowledged`, 'sent'],
    [`limit-request:${id}:decision`, 'sent'],
    [`limit-request:${id}:support-notice`, 'sent'],
  ]);
  const mail = mailAbout(id);
  expect(mail.map((m) => [m.to[0], m.subject]).sort()).toEqual(
    [
      ['acme@example.test', 'We received your request for a 4000-minute monthly limit (' + id + ')'],
      ['acme@example.test', 'Your RedConnect monthly limit is now 4000 minutes'],
      [TEST_SUPPORT_EMAIL, `Limit request ${id}: acme asks for 4000 minutes a month`],
    ].sort(),
  );
  const notice = mail.find((m) => m.to.includes(TEST_SUPPORT_EMAIL))!;
  expect(notice.text).toContain(`temporal workflow signal --workflow-id limit-request-${id} --name approve`);
  expect(notice.html).toContain(`billing limit approve ${id}`);
  expect(mail.find((m) => m.subject.startsWith('Your RedConnect monthly'))!.text).toContain(`from ${period}, until further notice`);
  recordHistory('limit-request-approved', await handle.fetchHistory());
});

test('an approval with an end month applies up to it; the month after is rated under the policy again', async () => {
  const period = await currentPeriod();
  const after = nextPeriod(period);
  await givenSubscriber(t.db.pool, { id: 'bolt', business: true, serviceStart: `${period}-01` });
  await givenCalls(t.db.pool, [...callsTotalling('bolt', `${period}-01`, minutes(3000)), ...callsTotalling('bolt', `${after}-01`, minutes(3000))]);
  const cycle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('bolt'), taskQueue, args: [{ subscriberId: 'bolt', period }] });
  const { id, handle } = await givenRequest('bolt', 4000);

  await handle.signal(approveSignal, { reviewer: 'sam', minutes: 3500, until: period, note: 'For the season' });
  expect(await until(status(handle), (s) => s.settled)).toMatchObject({ state: 'approved', decision: { minutes: 3500, untilPeriod: period, note: 'For the season' } });
  await cycle.signal(closeCycleSignal, { period: after });
  await t.env.sleep('80 days');
  const second = await until(
    () => getInvoice(t.db.pool, `INV-${after}-bolt`),
    (i) => i !== undefined,
  );
  expect(await getInvoice(t.db.pool, `INV-${period}-bolt`)).toMatchObject({ allowanceSeconds: minutes(3500), overageMinutes: 0 });
  expect(second).toMatchObject({ allowanceSeconds: minutes(2400), overageMinutes: 600, totalCents: 3000 });

  const final = await until(status(handle), (s) => s.ended);
  expect(final.ended).toBe(true);
  expect(await kinds(id)).toEqual(['requested', 'approved', 'applied', 'ended']);
  const decided = t.smtp.received.filter((m) => m.to.includes('bolt@example.test') && m.subject === 'Your RedConnect monthly limit is now 3500 minutes');
  expect(decided).toHaveLength(1);
  expect(decided[0]!.text).toContain(`to ${period} (included)`);
  expect(decided[0]!.text).toContain('Note from customer support: For the season');
});

test('a rejection needs a reason; the subscriber is told it, and nothing is granted', async () => {
  await givenSubscriber(t.db.pool, { id: 'cora', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('cora', 5000);
  await handle.signal(rejectSignal, { reviewer: 'sam', reason: '  ' });
  await until(status(handle), (s) => s.rejectedDecisions.length === 1);
  await handle.signal(rejectSignal, { reviewer: 'sam', reason: 'Usage does not justify it' });
  const settled = await until(status(handle), (s) => s.settled);
  expect(settled).toMatchObject({ state: 'rejected', decision: { kind: 'reject', reviewer: 'sam', reason: 'Usage does not justify it' } });
  expect(settled.rejectedDecisions[0]!.problem).toContain('must not be empty');
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'rejected', reviewer: 'sam', decisionNote: 'Usage does not justify it', approvedMinutes: null });
  expect(await limitGrantsFor(t.db.pool, 'cora')).toEqual([]);
  expect(await kinds(id)).toEqual(['requested', 'invalid-decision', 'rejected']);
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  const rejected = mailAbout(id).filter((m) => m.to.includes('cora@example.test') && m.subject.includes('was not approved'));
  expect(rejected).toHaveLength(1);
  expect(rejected[0]!.text).toContain('Reason: Usage does not justify it');
});

test('support is reminded after 48 hours without a decision, exactly once', async () => {
  await givenSubscriber(t.db.pool, { id: 'dora', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('dora', 3000);
  const reminders = () => t.smtp.received.filter((m) => m.subject.startsWith(`Reminder: limit request ${id} `));
  await t.env.sleep('47 hours');
  // At rest, waiting on its timer: had it reminded early, the reminder would be recorded and sent by now.
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  expect(await handle.query(limitRequestStatusQuery)).toMatchObject({ state: 'pending', reminded: false });
  expect(await outboxRows(t.db.pool, `limit-request:${id}:reminder`)).toEqual([]);
  expect(reminders()).toHaveLength(0);
  await t.env.sleep('2 hours');
  await until(
    () => Promise.resolve(reminders().length),
    (n) => n === 1,
  );
  expect(reminders()[0]!.to).toEqual([TEST_SUPPORT_EMAIL]);
  expect(reminders()[0]!.subject).toBe(`Reminder: limit request ${id} from dora has waited 48 hours`);
  await t.env.sleep('5 days');
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  expect(reminders()).toHaveLength(1);
  expect(await handle.query(limitRequestStatusQuery)).toMatchObject({ state: 'pending', reminded: true });
  const events = await limitRequestEvents(t.db.pool, id);
  expect(events.map((e) => [e.kind, e.actor])).toEqual([
    ['requested', 'test'],
    ['reminded', 'system'],
  ]);
  // Recorded at the workflow's time: 48 hours after the request (the timer fires on the hour;
  // the workflow task that records it takes a moment of server time).
  const waited = Date.parse(events[1]!.at) - Date.parse((await handle.query(limitRequestStatusQuery)).requestedAt);
  expect(waited).toBeGreaterThan(48 * 3_600_000 - 1000);
  expect(waited).toBeLessThan(48 * 3_600_000 + 60_000);
  // Let it run out, so it does not wait into the later tests.
  await t.env.sleep('10 days');
  await until(status(handle), (s) => s.state === 'expired');
});

test('an undecided request expires after 14 days and the subscriber is told', async () => {
  await givenSubscriber(t.db.pool, { id: 'emil', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('emil', 3000);
  await t.env.sleep('13 days');
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  expect((await getLimitRequest(t.db.pool, id))!.status).toBe('pending');
  expect(await handle.query(limitRequestStatusQuery)).toMatchObject({ state: 'pending', settled: false });
  await t.env.sleep('2 days');
  const final = await until(status(handle), (s) => s.settled);
  expect(final).toMatchObject({ state: 'expired', decision: null, settled: true, reminded: true });
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'expired' });
  expect(await kinds(id)).toEqual(['requested', 'reminded', 'expired']);
  await until(
    () => Promise.resolve(mailAbout(id).filter((m) => m.subject.endsWith('has expired')).length),
    (n) => n === 1,
  );
  const expired = mailAbout(id).filter((m) => m.subject.endsWith('has expired'));
  expect(expired[0]!.to).toEqual(['emil@example.test']);
  expect(expired[0]!.text).toContain('not decided within 14 days');
  // Acknowledgement, notice, reminder, expiry: each once.
  expect(
    mailAbout(id)
      .map((m) => m.subject)
      .sort(),
  ).toEqual([
    `Limit request ${id}: emil asks for 3000 minutes a month`,
    `Reminder: limit request ${id} from emil has waited 48 hours`,
    `We received your request for a 3000-minute monthly limit (${id})`,
    `Your request for a higher RedConnect limit (${id}) has expired`,
  ]);
});

test('invalid decisions change nothing and are recorded; a later valid approval works, and a second decision is refused', async () => {
  await givenSubscriber(t.db.pool, { id: 'fay', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('fay', 6000);
  await handle.signal(approveSignal, { reviewer: 'nobody' });
  await handle.signal(approveSignal, { reviewer: 'old' });
  await handle.signal(approveSignal, { reviewer: 'sam', minutes: 100 });
  await handle.signal(approveSignal, { reviewer: 'sam', minutes: 50_000 });
  const afterInvalid = await until(status(handle), (s) => s.rejectedDecisions.length === 4);
  expect(afterInvalid.state).toBe('pending');
  expect(afterInvalid.rejectedDecisions.map((r) => r.problem)).toEqual([
    'reviewer "nobody" is not support staff; see `billing staff list`',
    'reviewer "old" is no longer active support staff',
    'approve minutes 100 must be above the current limit of 2400 minutes',
    'approve minutes 50000 is above the ceiling of 20000 minutes',
  ]);
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'pending' });
  expect(await limitGrantsFor(t.db.pool, 'fay')).toEqual([]);

  await handle.signal(approveSignal, { reviewer: 'sam', minutes: 5000 });
  await until(status(handle), (s) => s.settled);
  await handle.signal(rejectSignal, { reviewer: 'sam', reason: 'Changed my mind' });
  const final = await until(status(handle), (s) => s.rejectedDecisions.length === 5);
  expect(final).toMatchObject({ state: 'approved', decision: { minutes: 5000 } });
  expect(final.rejectedDecisions[4]!.problem).toBe('reject after the request was already approved by sam: the first decision stands');
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'approved', approvedMinutes: 5000 });
  expect((await limitGrantsFor(t.db.pool, 'fay')).map((g) => g.minutes)).toEqual([5000]);
  const events = await limitRequestEvents(t.db.pool, id);
  expect(events.map((e) => [e.kind, e.actor])).toEqual([
    ['requested', 'test'],
    ['invalid-decision', 'nobody'],
    ['invalid-decision', 'old'],
    ['invalid-decision', 'sam'],
    ['invalid-decision', 'sam'],
    ['approved', 'sam'],
    ['applied', 'system'],
    ['invalid-decision', 'sam'],
  ]);
  expect(events[1]!.detail).toMatchObject({ signal: 'approve', payload: { reviewer: 'nobody' } });
});

test("a decision by Update answers once carried out; the core's refusal comes back at once and leaves nothing; the first valid decision wins over a later one by either way", async () => {
  await givenSubscriber(t.db.pool, { id: 'hal', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('hal', 4000);

  // Refused by the validator (the core's rules): not recorded, not even in the history.
  expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ reviewer: 'sam', minutes: 100 }] }))).toBe(
    'approve minutes 100 must be above the current limit of 2400 minutes',
  );
  expect(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'sam', reason: ' ' }] }))).toContain('must not be empty');
  expect(await handle.query(limitRequestStatusQuery)).toMatchObject({ state: 'pending', rejectedDecisions: [] });
  expect(await kinds(id)).toEqual(['requested']);
  expect(acceptedUpdates(await handle.fetchHistory())).toBe(0);

  // Refused by the workflow (a reviewer no longer active, read through an activity): recorded like a signal.
  expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ reviewer: 'old' }] }))).toBe('reviewer "old" is no longer active support staff');
  expect((await handle.query(limitRequestStatusQuery)).rejectedDecisions.map((r) => r.problem)).toEqual(['reviewer "old" is no longer active support staff']);

  const approved = await handle.executeUpdate(approveUpdate, { args: [{ reviewer: 'sam', minutes: 4500 }] });
  expect(approved).toMatchObject({ state: 'approved', settled: true, decision: { kind: 'approve', reviewer: 'sam', minutes: 4500 } });
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'approved', approvedMinutes: 4500 });
  expect((await limitGrantsFor(t.db.pool, 'hal')).map((g) => g.minutes)).toEqual([4500]);

  // Decided: an Update is refused by its validator (nothing recorded), a signal is recorded as invalid.
  expect(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'sam', reason: 'No' }] }))).toBe(
    'reject after the request was already approved by sam: the first decision stands',
  );
  await handle.signal(rejectSignal, { reviewer: 'sam', reason: 'No' });
  const final = await until(status(handle), (s) => s.rejectedDecisions.length === 2);
  expect(final.rejectedDecisions[1]!.problem).toBe('reject after the request was already approved by sam: the first decision stands');
  expect(await kinds(id)).toEqual(['requested', 'invalid-decision', 'approved', 'applied', 'invalid-decision']);
  expect(acceptedUpdates(await handle.fetchHistory())).toBe(2);
  await t.env.sleep('15 days');
  await untilAtRest(t.env.client, [limitRequestWorkflowId(id)]);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  recordHistory('limit-request-approved-by-update', await handle.fetchHistory());
});

test('a signal and an Update racing: the first valid one wins, the other is refused with the reason', async () => {
  await givenSubscriber(t.db.pool, { id: 'ida', serviceStart: `${await currentPeriod()}-01` });
  const { id, handle } = await givenRequest('ida', 4000);
  await handle.signal(approveSignal, { reviewer: 'sam' });
  // Whether the validator or the workflow's queue refuses it depends on timing; the reason is the same.
  expect(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ reviewer: 'sam', reason: 'Too late' }] }))).toBe(
    'reject after the request was already approved by sam: the first decision stands',
  );
  expect(await until(status(handle), (s) => s.settled)).toMatchObject({ state: 'approved', decision: { kind: 'approve', minutes: 4000 } });
  expect(await getLimitRequest(t.db.pool, id)).toMatchObject({ status: 'approved' });
});

describe('the CLI', () => {
  // Each command line runs in-process through the CLI's entry function (test/helpers/cli.ts).
  const billing = cliAgainst(() => ({ env: t.env, databaseUrl: t.db.url, taskQueue }));

  test('exits 2 with one line on decisions that break the rules, and sends nothing', async () => {
    await givenSubscriber(t.db.pool, { id: 'gus', serviceStart: `${await currentPeriod()}-01` });
    const { id, handle } = await givenRequest('gus', 4000);
    const cases: [string[], string][] = [
      [['limit', 'approve', id, '--reviewer', 'nobody'], 'reviewer "nobody" is not support staff'],
      [['limit', 'approve', id, '--reviewer', 'old'], 'reviewer "old" is no longer active support staff'],
      [['limit', 'approve', id, '--reviewer', 'sam', '--minutes', '2000'], 'approve minutes 2000 must be above the current limit of 2400 minutes'],
      [['limit', 'approve', id, '--reviewer', 'sam', '--minutes', 'lots'], '--minutes "lots" must be a whole number of minutes'],
      [['limit', 'approve', id, '--reviewer', 'sam', '--until', '2020-01'], 'approve until "2020-01" is before the month in progress'],
      [['limit', 'reject', id, '--reviewer', 'sam', '--reason', ' '], 'reject reason " " must not be empty'],
      [['limit', 'approve', 'LR-999', '--reviewer', 'sam'], 'limit request "LR-999" does not exist'],
      [['limit', 'list', '--status', 'maybe'], '--status "maybe"'],
      [['limit', 'request', '--subscriber', 'gus', '--minutes', '5000', '--reason', 'more'], `already has a pending limit request, ${id}`],
      [['limit', 'request', '--subscriber', 'nobody', '--minutes', '5000', '--reason', 'more'], 'subscriber "nobody" does not exist'],
    ];
    for (const [args, message] of cases) {
      const result = await billing(...args);
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 2, stderr: expect.stringContaining(message) });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await handle.query(limitRequestStatusQuery)).rejectedDecisions).toEqual([]);

    // A valid one waits until it is carried out and prints the outcome; a second one exits 2.
    const approved = await billing('limit', 'approve', id, '--reviewer', 'sam', '--minutes', '4500');
    expect(approved).toMatchObject({ code: 0 });
    expect(approved.stdout).toContain(`${id} (gus, asked for 4000 minutes): approved by sam: 4500 minutes a month from`);
    const again = await billing('limit', 'reject', id, '--reviewer', 'sam', '--reason', 'no');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`limit request ${id} is already approved by sam`);
    const listed = JSON.parse((await billing('limit', 'list', '--status', 'approved', '--json')).stdout) as { id: string }[];
    expect(listed.map((r) => r.id)).toContain(id);
    const shown = await billing('limit', 'show', id);
    expect(shown.stdout).toMatch(/requested .*\n.*approved\s+sam .*\n.*applied\s+system/);
  });
});
