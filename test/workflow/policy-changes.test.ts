/**
 * Policy revisions on the time-skipping server, with real PostgreSQL and a real SMTP server:
 * publication and its notices to every subscriber at once, the reminder 7 days before, activation
 * on the date; a cycle straddling the date rated under the old version and the next under the new;
 * cancellation before the date, refusal after; a subscriber who joins in between told when they
 * join; an SMTP outage holding activation until everyone has had the full notice period; and the
 * CLI's exit 2 on a too short notice. Each subscriber gets each email exactly once.
 */
import { nextPeriod } from '../../billing/periods';
import { addDays, dayOf, dayStartMs, type PolicyChanges } from '../../billing/policy-revision';
import { publishPolicyRevision } from '../../client/policy-revisions';
import { getInvoice } from '../../db/invoices';
import { findPolicyVersion, policyInEffectOn, scheduledPolicy } from '../../db/policies';
import {
  closeCycleSignal,
  policyActivateSignal,
  policyActivateUpdate,
  policyCancelSignal,
  policyCancelUpdate,
  policyChangeStatusQuery,
  subscriberWorkflowId,
} from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { cliAgainst } from '../helpers/cli';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { recordHistory, runChain } from '../helpers/histories';
import { useTimeSkippingWorker } from '../helpers/harness';
import { TEST_OPS_EMAIL } from '../helpers/temporal';
import { acceptedUpdates, refusal } from '../helpers/updates';
import { untilAtRest, until } from '../helpers/wait';

const t = useTimeSkippingWorker('policy-changes-test');
const HOUR = 3_600_000;

/** Today by the test server's clock, which each test moves on. */
const today = async (): Promise<string> => dayOf(await t.env.currentTimeMs());
/** Moves the server's clock to a moment (timers due by then fire on the way). */
const sleepUntil = async (ms: number): Promise<void> => t.env.sleep(Math.max(ms - (await t.env.currentTimeMs()), 1));

/** What `billing policy publish` does once it has read its flags: small batches, to cross several. */
async function publish(changes: PolicyChanges, effectiveFrom?: string, retryMaxMinutes = 180, continueAsNewAfterEvents?: number) {
  // A revision an earlier test left behind (when it failed) would refuse this one: end it.
  const left = await scheduledPolicy(t.db.pool);
  if (left) {
    await t.env.client.workflow
      .getHandle(`policy-change-${left.version}`)
      .terminate('left by a failed test')
      .catch(() => undefined);
    await t.db.pool.query(`UPDATE policies SET state = 'cancelled' WHERE version = $1`, [left.version]);
  }
  const day = await today();
  const published = await publishPolicyRevision(t.db.pool, t.env.client, {
    effectiveFrom: effectiveFrom ?? addDays(day, 30),
    changes,
    today: day,
    publishedBy: 'test',
    taskQueue: t.taskQueue,
    batchSize: 2,
    retryMaxMinutes,
    continueAsNewAfterEvents,
  });
  const handle = t.env.client.workflow.getHandle(published.workflowId);
  return { ...published, handle, status: () => handle.query(policyChangeStatusQuery) };
}

const subjects = {
  notice: (eff: string) => `Changes to the RedConnect Fair Usage Policy from ${eff}`,
  reminder: (eff: string) => `Reminder: the RedConnect Fair Usage Policy changes on ${eff}`,
  cancellation: (eff: string) => `Cancelled: the RedConnect Fair Usage Policy change planned for ${eff}`,
};
const mail = (kind: keyof typeof subjects, eff: string) => t.smtp.received.filter((m) => m.subject === subjects[kind](eff));
const recipients = (kind: keyof typeof subjects, eff: string): string[] =>
  mail(kind, eff)
    .map((m) => m.to[0]!)
    .sort();
const countOf = (kind: keyof typeof subjects, eff: string) => () => Promise.resolve(mail(kind, eff).length);
/** Everyone billed, so told of a revision: active and suspended subscribers (DESIGN, "policy revision"). */
const billedSubscriberEmails = async (): Promise<string[]> =>
  (await t.db.pool.query(`SELECT email FROM subscribers WHERE status <> 'terminated' ORDER BY email`)).rows.map((r) => r.email as string).sort();

test('publish: every subscriber billed (active or suspended) is told at once, reminded 7 days before, and the version activates on the date; each email exactly once', async () => {
  for (const id of ['ada', 'bob', 'cy']) await givenSubscriber(t.db.pool, { id, name: id === 'ada' ? 'Ada Lovelace' : undefined });
  await givenSubscriber(t.db.pool, { id: 'dee' });
  await t.db.pool.query(`UPDATE subscribers SET status = 'suspended' WHERE id = 'dee'`);
  await givenSubscriber(t.db.pool, { id: 'eve' });
  await t.db.pool.query(`UPDATE subscribers SET status = 'terminated' WHERE id = 'eve'`);
  const told = ['ada@example.test', 'bob@example.test', 'cy@example.test', 'dee@example.test'];
  const eff = addDays(await today(), 30);
  const { revision, handle, status, workflowId } = await publish({ includedMinutes: 3000, overageRateMicros: 40_000 }, eff);
  expect(revision).toMatchObject({ version: 2, state: 'scheduled', basedOn: 1, includedMinutes: 3000, overageRateMicros: 40_000 });

  // At once: no time passes on the server while we wait.
  await until(countOf('notice', eff), (n) => n === 4);
  expect(recipients('notice', eff)).toEqual(told);
  // The suspended subscriber's notice counts for the activation guarantee like everyone's.
  expect((await t.db.pool.query(`SELECT at_publication FROM policy_emails WHERE version = 2 AND kind = 'notice' AND subscriber_id = 'dee'`)).rows).toEqual([
    { at_publication: true },
  ]);
  const notice = mail('notice', eff).find((m) => m.to[0] === 'ada@example.test')!;
  expect(notice.text).toContain('Hello Ada Lovelace,');
  expect(notice.text).toMatch(/Included minutes a month\s+2400 min\s+3000 min/);
  expect(notice.text).toMatch(/Overage rate\s+0\.05 USD a minute\s+0\.04 USD a minute/);
  expect(notice.text).toContain(`From ${eff}, these terms change`);
  expect(notice.html).toContain('<td>Included minutes a month</td><td>2400 min</td><td><strong>3000 min</strong></td>');
  const published = await until(status, (s) => s.phase === 'scheduled');
  expect(published).toMatchObject({ version: 2, effectiveFrom: eff, noticeDays: 30, progress: { notice: { sent: 4, pending: 0, failed: 0 }, reminder: { sent: 0 } }, hold: null });
  expect(published.reminderAt).toBe(new Date(dayStartMs(eff) - 7 * 24 * HOUR).toISOString());

  await sleepUntil(dayStartMs(eff) - 7 * 24 * HOUR - HOUR);
  // At rest, waiting on its timer: had it reminded early, the reminders would be sent by now.
  await untilAtRest(t.env.client, [workflowId]);
  expect((await status()).progress.reminder).toMatchObject({ sent: 0, pending: 0 });
  expect(mail('reminder', eff)).toHaveLength(0);
  await t.env.sleep(2 * HOUR);
  await until(countOf('reminder', eff), (n) => n === 4);
  expect(recipients('reminder', eff)).toEqual(told);
  expect(mail('reminder', eff)[0]!.text).toContain(`changes on ${eff}, in a week`);
  expect((await findPolicyVersion(t.db.pool, 2))!.state).toBe('scheduled');
  expect((await policyInEffectOn(t.db.pool, eff)).version).toBe(1);

  await sleepUntil(dayStartMs(eff) + HOUR);
  const final = await handle.result();
  expect(final).toMatchObject({ phase: 'active', activeFrom: eff, progress: { notice: { sent: 4, pending: 0, failed: 0 }, reminder: { sent: 4, pending: 0, failed: 0 } } });
  expect(await findPolicyVersion(t.db.pool, 2)).toMatchObject({ state: 'active', activeFrom: eff, activatedBy: 'system' });
  expect(await findPolicyVersion(t.db.pool, 1)).toMatchObject({ state: 'superseded' });
  expect((await policyInEffectOn(t.db.pool, eff)).version).toBe(2);
  expect((await policyInEffectOn(t.db.pool, addDays(eff, -1))).version).toBe(1);

  // The revision's workflow has completed: all it sends is sent.
  // Exactly one notice and one reminder each, the suspended subscriber included; nothing for the terminated one.
  expect(recipients('notice', eff)).toEqual(told);
  expect(recipients('reminder', eff)).toEqual(told);
  expect(t.smtp.received.filter((m) => m.to.includes('eve@example.test'))).toEqual([]);
  const [{ history }] = await runChain(t.env.client, workflowId, (await handle.describe()).runId);
  recordHistory('policy-change-activated', history);
});

test('a cycle that straddles the effective date is rated under the old version, the next one under the new', async () => {
  // The first 15th at least 30 days away: the change starts mid-month.
  let eff = addDays(await today(), 30);
  while (!eff.endsWith('-15')) eff = addDays(eff, 1);
  const period = eff.slice(0, 7);
  const following = nextPeriod(period);
  await givenSubscriber(t.db.pool, { id: 'sam', serviceStart: `${period}-01` });
  await givenCalls(t.db.pool, [...callsTotalling('sam', `${period}-01`, 2700 * 60), ...callsTotalling('sam', `${following}-01`, 2700 * 60)]);
  const cycle = await t.env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId('sam'), taskQueue: t.taskQueue, args: [{ subscriberId: 'sam', period }] });
  const { handle } = await publish({ includedMinutes: 2500, overageRateMicros: 100_000 }, eff);
  await until(countOf('notice', eff), (n) => n === 5);

  await cycle.signal(closeCycleSignal, { period: following });
  await sleepUntil(Date.parse(`${nextPeriod(following)}-01T00:00:00Z`) + 7 * HOUR);
  expect(await handle.result()).toMatchObject({ phase: 'active', activeFrom: eff });
  const straddling = await until(
    () => getInvoice(t.db.pool, `INV-${period}-sam`),
    (i) => i !== undefined,
  );
  const next = await until(
    () => getInvoice(t.db.pool, `INV-${following}-sam`),
    (i) => i !== undefined,
  );
  // Version 2: 3000 included minutes, so 2700 is no overage. Version 3: 2500, 200 min at 0.10.
  expect(straddling).toMatchObject({ policyVersion: 2, allowanceSeconds: 3000 * 60, overageMinutes: 0, totalCents: 0 });
  expect(next).toMatchObject({ policyVersion: 3, allowanceSeconds: 2500 * 60, overageMinutes: 200, overageRateMicros: 100_000, totalCents: 2000 });
});

test('cancel before the date: everyone who got the notice is told, nothing activates, no reminder goes out', async () => {
  const eff = addDays(await today(), 30);
  const { handle, status } = await publish({ alertThresholdsPercent: [90, 100] }, eff);
  const subscribers = await billedSubscriberEmails();
  await until(countOf('notice', eff), (n) => n === subscribers.length);
  await t.env.sleep('10 days');

  // As support would from the temporal CLI: temporal workflow signal --name cancel --input '{...}'
  await handle.signal(policyCancelSignal, { operator: 'kim', reason: 'Pricing review' });
  const final = await handle.result();
  expect(final).toMatchObject({
    phase: 'cancelled',
    decision: { kind: 'cancel', operator: 'kim', reason: 'Pricing review' },
    progress: { cancellation: { sent: subscribers.length, pending: 0, failed: 0 } },
  });
  expect(await findPolicyVersion(t.db.pool, 4)).toMatchObject({ state: 'cancelled', cancelledBy: 'ops:kim', cancelReason: 'Pricing review', activeFrom: null });
  await until(countOf('cancellation', eff), (n) => n === subscribers.length);
  expect(recipients('cancellation', eff)).toEqual(subscribers);
  expect(mail('cancellation', eff)[0]!.text).toMatch(/Usage alerts at\s+80 %, 100 %\s+80 %, 100 % \(unchanged\)/);

  await sleepUntil(dayStartMs(eff) + 24 * HOUR);
  // The cancelled revision's workflow has completed (above), and no other sends its reminders.
  expect((await t.db.pool.query(`SELECT count(*)::int AS n FROM policy_emails WHERE version = 4 AND kind = 'reminder'`)).rows[0].n).toBe(0);
  expect(mail('reminder', eff)).toHaveLength(0);
  expect((await policyInEffectOn(t.db.pool, addDays(eff, 1))).version).toBe(3);
  expect(await status()).toMatchObject({ phase: 'cancelled' });
});

describe('the CLI', () => {
  const billing = cliAgainst(() => ({ env: t.env, databaseUrl: t.db.url, taskQueue: t.taskQueue }));

  test('cancel after the date is refused with a clear message', async () => {
    const eff = addDays(await today(), 30);
    const { handle } = await publish({ roundingIncrementSeconds: 6 }, eff);
    await sleepUntil(dayStartMs(eff) + HOUR);
    expect(await handle.result()).toMatchObject({ phase: 'active' });
    const refused = await billing('policy', 'cancel', '5');
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `billing: policy version 5 is active since its effective date ${eff}: a revision can be cancelled only before that date; publish a new revision to change the rules again`,
    );
    expect((await findPolicyVersion(t.db.pool, 5))!.state).toBe('active');
  });

  test('a subscriber added between publication and the date gets the notice when they join, and the reminder; one added without the CLI before the reminder (across runs continued as new)', async () => {
    const eff = addDays(await today(), 30);
    const { handle, status, workflowId } = await publish({ planStreakCycles: 4 }, eff, 180, 30);
    const before = await billedSubscriberEmails();
    await until(countOf('notice', eff), (n) => n === before.length);
    await t.env.sleep('3 days');

    const added = await billing('subscribers', 'add', '--id', 'zoe', '--email', 'zoe@example.test');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toContain('notice of policy version 6 handed to policy-change-6');
    await until(countOf('notice', eff), (n) => n === before.length + 1);
    expect(mail('notice', eff).filter((m) => m.to[0] === 'zoe@example.test')).toHaveLength(1);
    expect(await until(status, (st) => st.progress.notice.sent === before.length + 1)).toMatchObject({ phase: 'scheduled', progress: { notice: { pending: 0, failed: 0 } } });

    // One added behind the CLI's back (straight into the database) is found before the reminders.
    await givenSubscriber(t.db.pool, { id: 'yan' });
    await t.env.sleep('1 day');
    await untilAtRest(t.env.client, [workflowId]);
    expect(mail('notice', eff).filter((m) => m.to[0] === 'yan@example.test')).toHaveLength(0);

    await sleepUntil(dayStartMs(eff) + HOUR);
    // The revision's workflow has completed: all it sends is sent.
    expect(await handle.result()).toMatchObject({ phase: 'active', activeFrom: eff });
    const everyone = [...before, 'yan@example.test', 'zoe@example.test'].sort();
    expect(recipients('notice', eff)).toEqual(everyone);
    expect(recipients('reminder', eff)).toEqual(everyone);
    // The last run carried on from an earlier one.
    const lastRun = await t.env.client.workflow.getHandle(workflowId).fetchHistory();
    expect(lastRun.events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId).toBeTruthy();
  });

  test('an SMTP outage during sending holds activation until every subscriber has had the full notice period; cancel is refused after the date', async () => {
    const eff = addDays(await today(), 30);
    t.smtp.setDown(true);
    const { handle, status } = await publish({ includedMinutes: 2800 }, eff);
    const subscribers = await billedSubscriberEmails();
    const failing = await until(status, (s) => s.progress.notice.failed > 0);
    expect(failing.lastSendError).toContain('421');
    expect(failing.phase).toBe('notifying');

    // Five days without mail: the date can no longer be kept; activation is held, ops alerted (queued).
    await t.env.sleep('5 days');
    const held = await until(status, (s) => s.phase === 'held');
    expect(held.hold).toMatchObject({ reason: 'notices-unsent', unsent: subscribers.length });
    expect(mail('notice', eff)).toHaveLength(0);

    t.smtp.setDown(false);
    await t.env.sleep('4 hours');
    await until(countOf('notice', eff), (n) => n === subscribers.length);
    const sentDay = await today();
    const activeFrom = addDays(sentDay, 30);
    const late = await until(status, (s) => s.hold?.reason === 'notice-period');
    expect(late).toMatchObject({ phase: 'held', hold: { activeFrom }, lastSendError: null });
    await until(
      () => Promise.resolve(t.smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL) && m.subject === `Policy version 7: activation on ${eff} held`).length),
      (n) => n === 2,
    );
    const alerts = t.smtp.received.filter((m) => m.subject === `Policy version 7: activation on ${eff} held`);
    expect(alerts.map((m) => m.text).join('\n')).toContain(`notice period has passed for everyone on ${activeFrom}`);

    // The date passes: still held, the old version still rates; a cancel now is refused.
    await sleepUntil(dayStartMs(eff) + 24 * HOUR);
    expect((await findPolicyVersion(t.db.pool, 7))!.state).toBe('scheduled');
    expect((await policyInEffectOn(t.db.pool, addDays(eff, 1))).version).toBe(6);
    await handle.signal(policyCancelSignal, { operator: 'kim' });
    const refused = await until(status, (s) => s.rejectedSignals.length === 1);
    expect(refused.rejectedSignals[0]!.problem).toContain(`policy version 7's effective date ${eff} has passed: a revision can be cancelled only before that date`);
    const shown = await billing('policy', 'show', '7');
    expect(shown.stdout).toContain(`policy-change-7: held (held: notice-period until ${activeFrom}); notices ${subscribers.length} sent, 0 pending, 0 failed`);

    await sleepUntil(dayStartMs(activeFrom) + HOUR);
    const final = await handle.result();
    expect(final).toMatchObject({ phase: 'active', activeFrom, progress: { notice: { sent: subscribers.length, failed: 0 }, reminder: { sent: subscribers.length } } });
    expect(await findPolicyVersion(t.db.pool, 7)).toMatchObject({ state: 'active', activeFrom });
    expect((await policyInEffectOn(t.db.pool, addDays(activeFrom, -1))).version).toBe(6);
    expect((await policyInEffectOn(t.db.pool, activeFrom)).version).toBe(7);
    // The revision's workflow has completed (above): all it sends is sent.
    expect(recipients('notice', eff)).toEqual(subscribers);
    expect(recipients('reminder', eff)).toEqual(subscribers);
  });

  test('while held, billing operations may activate by hand; the late notices still go out', async () => {
    const eff = addDays(await today(), 30);
    t.smtp.setDown(true);
    const { handle, status } = await publish({ includedMinutes: 2900 }, eff, 24 * 60);
    // Too early: the workflow refuses by its own clock, the CLI exits 2 with its reason.
    const early = await billing('policy', 'activate', '8', '--operator', 'kim', '--reason', 'too early');
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(`policy version 8 takes effect on ${eff}; it can be activated by hand only once that date has passed`);
    await sleepUntil(dayStartMs(eff) + HOUR);
    expect(await until(status, (s) => s.phase === 'held')).toMatchObject({ hold: { reason: 'notices-unsent' } });
    // As from the temporal CLI, a payload without an operator changes nothing. (The CLI's early
    // activate was refused by the Update's validator: not recorded.)
    await handle.signal(policyActivateSignal, { reason: 'nobody' } as never);
    expect((await until(status, (s) => s.rejectedSignals.length === 1)).rejectedSignals[0]!.problem).toBe('activate needs {"operator": "your name", "reason": "..."}');
    const activated = await billing('policy', 'activate', '8', '--operator', 'kim', '--reason', 'Board decision');
    expect(activated.code).toBe(0);
    expect(activated.stdout).toContain(`activated policy version 8 from ${await today()}, decided by kim`);
    expect(await findPolicyVersion(t.db.pool, 8)).toMatchObject({ state: 'active', activeFrom: await today(), activatedBy: 'ops:kim' });
    t.smtp.setDown(false);
    await t.env.sleep('4 hours');
    const final = await handle.result();
    expect(final).toMatchObject({ phase: 'active', decision: { kind: 'activate', operator: 'kim' }, progress: { notice: { pending: 0, failed: 0 }, reminder: { sent: 0 } } });
    expect(recipients('notice', eff)).toEqual(await billedSubscriberEmails());
  });

  test('publish exits 2 with one line on a too short notice (naming the earliest allowed date) and on bad parameters', async () => {
    const realToday = dayOf(Date.now());
    const cases: [string[], string][] = [
      [
        ['policy', 'publish', '--effective', addDays(realToday, 10), '--included-minutes', '3000'],
        `--effective ${addDays(realToday, 10)} is less than the 30-day notice period away: the earliest allowed date is ${addDays(realToday, 30)}`,
      ],
      [['policy', 'publish', '--effective', '2030-02-30', '--included-minutes', '3000'], '--effective "2030-02-30" is not a real calendar date'],
      [['policy', 'publish', '--effective', '2030-03-01', '--overage-rate', '0.0.5'], '--overage-rate: rate "0.0.5" is not a non-negative decimal number'],
      [['policy', 'publish', '--effective', '2030-03-01', '--alert-thresholds', '100,80'], '--alert-thresholds 100,80 must be 1 to 5 percentages'],
      [['policy', 'publish', '--effective', '2030-03-01'], 'give at least one parameter that changes'],
      [['policy', 'publish', '--effective', '2030-03-01', '--included-minutes', '2900'], 'nothing changes: give at least one parameter that differs from version 8'],
      [['policy', 'cancel', '99'], 'policy version 99 does not exist'],
      [['policy', 'cancel', '4'], 'policy version 4 is already cancelled'],
    ];
    for (const [args, message] of cases) {
      const result = await billing(...args);
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 2, stderr: expect.stringContaining(message) });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    const shown = await billing('policy', 'show', '8');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Included minutes a month\s+2800 min\s+→\s+2900 min/);
    const listed = await billing('policy', 'list');
    expect(listed.stdout).toMatch(/1\s+superseded\s+2000-01-01\s+2000-01-01\s+initial version/);
    expect(listed.stdout).toMatch(/4\s+cancelled/);
    expect(listed.stdout).toMatch(/8\s+active/);
  });
});

test('publishing a revision that includes more minutes lists the approved limits it overtakes', async () => {
  await givenSubscriber(t.db.pool, { id: 'granted' });
  await t.db.pool.query(
    `INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason, status, approved_minutes) VALUES ('LR-low', 'granted', 2600, 'busy', 'approved', 2600), ('LR-high', 'granted', 5000, 'busier', 'approved', 5000)`,
  );
  await t.db.pool.query(
    `INSERT INTO subscriber_limits (request_id, subscriber_id, minutes, from_period, until_period) VALUES ('LR-low', 'granted', 2600, '2020-01', NULL), ('LR-high', 'granted', 5000, '2020-01', '2020-12')`,
  );
  // A date of its own: the other tests count the mail of their revision by its date.
  const eff = addDays(await today(), 61);
  const { overtaken, handle } = await publish({ includedMinutes: 3000 }, eff);
  // The 2,600-minute grant no longer raises the allowance; the 5,000-minute one ended long ago.
  expect(overtaken).toEqual([{ requestId: 'LR-low', subscriberId: 'granted', minutes: 2600, fromPeriod: '2020-01', untilPeriod: null }]);
  await handle.signal(policyCancelSignal, { operator: 'kim', reason: 'test over' });
  await handle.result();
});

test("cancel and activate by Update: the core's refusal comes back at once and leaves nothing; a cancel answers once recorded", async () => {
  const eff = addDays(await today(), 30);
  const { revision, handle, status } = await publish({ roundingIncrementSeconds: 30 }, eff);
  const subscribers = await billedSubscriberEmails();
  await until(countOf('notice', eff), (n) => n === subscribers.length);
  await until(status, (s) => s.phase === 'scheduled');

  expect(await refusal(handle.executeUpdate(policyActivateUpdate, { args: [{ operator: 'kim' }] }))).toBe(
    `policy version ${revision.version} takes effect on ${eff}; it can be activated by hand only once that date has passed and activation is held`,
  );
  expect(await refusal(handle.executeUpdate(policyActivateUpdate, { args: [{ reason: 'nobody' } as never] }))).toBe('activate needs {"operator": "your name", "reason": "..."}');
  expect(await status()).toMatchObject({ phase: 'scheduled', rejectedSignals: [], decision: null });
  expect(acceptedUpdates(await handle.fetchHistory())).toBe(0);

  const cancelled = await handle.executeUpdate(policyCancelUpdate, { args: [{ operator: 'kim', reason: 'By update' }] });
  expect(cancelled).toMatchObject({ phase: 'cancelled', decision: { kind: 'cancel', operator: 'kim', reason: 'By update' } });
  expect(await findPolicyVersion(t.db.pool, revision.version)).toMatchObject({ state: 'cancelled', cancelledBy: 'ops:kim', cancelReason: 'By update' });
  const final = await handle.result();
  expect(final).toMatchObject({ phase: 'cancelled', rejectedSignals: [], progress: { cancellation: { sent: subscribers.length, pending: 0 } } });
  recordHistory('policy-change-cancelled-by-update', await handle.fetchHistory());
});
