/**
 * Abuse cases on the time-skipping server, with real PostgreSQL and SMTP (issue 7): a finding opens
 * one case and later findings join it; suspend suspends (and a timed suspension resumes by
 * itself), terminate issues the final invoice and ends the cycle, dismiss mutes; support is
 * reminded once; invalid decisions are recorded and ignored; each email once; the CLI exits 2 on
 * decisions that break the rules.
 */
import { dayOf, shiftDay } from '../../billing/abuse';
import { formatCents } from '../../billing/money';
import { daysInPeriod, periodOf } from '../../billing/periods';
import { abuseCaseEvents, abuseCaseFindings, getAbuseCase, suspendedAccounts } from '../../db/abuse';
import { getInvoice } from '../../db/invoices';
import { insertStaff } from '../../db/staff';
import { getSubscriber } from '../../db/subscribers';
import { abuseScanWorkflow } from '../../workflows/abuse-scan';
import {
  abuseCaseStatusQuery,
  abuseCaseWorkflowId,
  abuseScanProgressQuery,
  abuseScanWorkflowId,
  decideSignal,
  decideUpdate,
  statusQuery,
  subscriberWorkflowId,
  type AbuseCaseStatus,
} from '../../workflows/messages';
import { cliAgainst } from '../helpers/cli';
import { recordHistory } from '../helpers/histories';
import { givenCalls, givenSubscriber, type CallRow } from '../helpers/fixtures';
import { TEST_SUPPORT_EMAIL } from '../helpers/temporal';
import { untilAtRest, until } from '../helpers/wait';
import { useTimeSkippingWorker } from '../helpers/harness';
import { acceptedUpdates, refusal } from '../helpers/updates';

const taskQueue = 'abuse-cases-test';

const t = useTimeSkippingWorker(taskQueue);
beforeAll(async () => {
  await insertStaff(t.db.pool, { id: 'sam', email: 'sam@support.test' });
  await insertStaff(t.db.pool, { id: 'old', email: 'old@support.test' });
  await t.db.pool.query(`UPDATE support_staff SET active = false WHERE id = 'old'`);
});

/** The day before the test server's clock (which earlier tests move on), in UTC. */
const yesterday = async (): Promise<string> => shiftDay(dayOf(await t.env.currentTimeMs(), 'UTC'), -1);
/** Waits until the case's workflow (and the subscriber's cycle, when named) has nothing in flight. */
const atRest = (caseId: string, subscriberId?: string): Promise<void> =>
  untilAtRest(t.env.client, [abuseCaseWorkflowId(caseId), ...(subscriberId ? [subscriberWorkflowId(subscriberId)] : [])]);

/** Five calls in progress at once on the day (the bound is four): a simultaneous-calls finding. */
const simultaneousCalls = (subscriber: string, day: string): CallRow[] => Array.from({ length: 5 }, (_, i) => ({ subscriber, start: `${day} 10:0${i}:00`, seconds: 900 }));

/** A subscriber in service since the month before `day`, with a finding on `day`. */
async function givenSuspicious(id: string, day: string, more: { monthlyFeeCents?: number; numbers?: string[] } = {}): Promise<void> {
  await givenSubscriber(t.db.pool, { id, serviceStart: `${periodOf(Date.parse(day) - 40 * 86_400_000, 'UTC')}-01`, ...more });
  await givenCalls(t.db.pool, simultaneousCalls(id, day));
}

/**
 * Runs the scan of a day. Not `execute`: awaiting a result lets the test server skip time, and
 * the open cases' reminders would fire; the progress is read by query once the scan is done.
 */
async function scan(day: string, record?: string) {
  const handle = await t.env.client.workflow.start(abuseScanWorkflow, { workflowId: abuseScanWorkflowId(day), taskQueue, args: [{ day, reminderHours: 24 }] });
  await until(
    async () => (await handle.describe()).status.name,
    (name) => name !== 'RUNNING',
  );
  if (record) recordHistory(record, await handle.fetchHistory());
  return handle.query(abuseScanProgressQuery);
}

/** Scans the day and returns the subscriber's case once support has its notice. */
async function givenCase(subscriberId: string, day: string) {
  await scan(day);
  const { rows } = await t.db.pool.query(`SELECT id FROM abuse_cases WHERE subscriber_id = $1 ORDER BY created_at DESC LIMIT 1`, [subscriberId]);
  const caseId = rows[0].id as string;
  await until(
    () => Promise.resolve(mailAbout(caseId).length),
    (n) => n >= 1,
  );
  return { caseId, handle: t.env.client.workflow.getHandle(abuseCaseWorkflowId(caseId)) };
}

const mailAbout = (caseId: string) =>
  t.smtp.received.filter((m) => m.subject.includes(`${caseId} `) || m.subject.includes(`${caseId})`) || m.subject.endsWith(caseId) || m.subject.includes(`${caseId}:`));
const status = (handle: { query: (q: typeof abuseCaseStatusQuery) => Promise<AbuseCaseStatus> }) => () => handle.query(abuseCaseStatusQuery);
const kinds = async (caseId: string): Promise<string[]> => (await abuseCaseEvents(t.db.pool, caseId)).map((e) => e.kind);

test("a finding opens one case; a rerun of the day opens nothing, and the next day's finding joins the case; support is mailed once", async () => {
  const day = shiftDay(await yesterday(), -1);
  await givenSuspicious('ann', day);
  await givenCalls(t.db.pool, simultaneousCalls('ann', shiftDay(day, 1)));
  const first = await scan(day, 'abuse-scan-one-case');
  expect(first).toMatchObject({ day, findings: 1, done: true });
  expect(first.cases).toHaveLength(1);
  const caseId = first.cases[0]!;
  const handle = t.env.client.workflow.getHandle(abuseCaseWorkflowId(caseId));
  await until(
    () => Promise.resolve(mailAbout(caseId).length),
    (n) => n === 1,
  );

  const rerun = await scan(day);
  expect(rerun.cases).toEqual([]);
  const next = await scan(shiftDay(day, 1));
  expect(next.cases).toEqual([caseId]);
  const s = await until(status(handle), (x) => x.findings.length === 2);
  expect(s).toMatchObject({ state: 'open', subscriberId: 'ann', decision: null });
  expect(s.findings.map((f) => [f.detector, f.day])).toEqual([
    ['simultaneous-calls', day],
    ['simultaneous-calls', shiftDay(day, 1)],
  ]);
  expect((await t.db.pool.query(`SELECT count(*)::int AS n FROM abuse_cases WHERE subscriber_id = 'ann'`)).rows[0].n).toBe(1);
  const findings = await abuseCaseFindings(t.db.pool, caseId);
  expect(findings[0]!.key).toBe(`ann:simultaneous-calls:${day}`);
  expect(findings[0]!.evidence).toMatchObject({ measured: { simultaneousCalls: 5 }, callCount: 5 });

  const description = await handle.describe();
  expect(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
    expect.arrayContaining([
      ['SubscriberId', 'ann'],
      ['CaseState', 'open'],
      ['AbuseDetector', ['simultaneous-calls']],
    ]),
  );
  await atRest(caseId);
  const notice = mailAbout(caseId);
  expect(notice).toHaveLength(1);
  expect(notice[0]!.to).toEqual([TEST_SUPPORT_EMAIL]);
  expect(notice[0]!.subject).toBe(`Abuse case ${caseId}: ann, simultaneous-calls`);
  expect(notice[0]!.text).toContain(`temporal workflow signal --workflow-id abuse-case-${caseId} --name decide`);
  expect(notice[0]!.text).toContain(`billing abuse decide ${caseId}`);
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'finding']);
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'dismiss', reason: 'Call centre, known' });
  await until(status(handle), (x) => x.settled);
});

test('suspend suspends through the entity; calls that still arrive are kept and flagged; a timed suspension resumes by itself', async () => {
  const day = await yesterday();
  await givenSuspicious('ben', day, { numbers: ['+15550100'] });
  const { caseId, handle } = await givenCase('ben', day);
  const today = dayOf(await t.env.currentTimeMs(), 'UTC');
  const untilDay = shiftDay(today, 3);

  await handle.signal(decideSignal, { reviewer: 'sam', action: 'suspend', reason: 'Five calls at once from a home line', until: untilDay });
  const suspended = await until(status(handle), (s) => s.settled);
  expect(suspended).toMatchObject({ state: 'suspended', decision: { action: 'suspend', reviewer: 'sam', untilDay }, suspendedUntil: `${untilDay}T00:00:00.000Z` });
  expect((await getSubscriber(t.db.pool, 'ben'))!.status).toBe('suspended');
  expect(await suspendedAccounts(t.db.pool)).toEqual([
    expect.objectContaining({ subscriberId: 'ben', status: 'suspended', number: '+15550100', until: `${untilDay}T00:00:00Z`, caseId }),
  ]);
  const entity = t.env.client.workflow.getHandle(subscriberWorkflowId('ben'));
  expect(
    (
      await until(
        () => entity.query(statusQuery),
        (s) => Boolean(s.suspension),
      )
    ).suspension,
  ).toMatchObject({ caseId, until: `${untilDay}T00:00:00.000Z` });

  // A call during the suspension (the switch had not consulted the list) is kept, billed and flagged.
  const duringMs = (await t.env.currentTimeMs()) + 3_600_000;
  await givenCalls(t.db.pool, [{ subscriber: 'ben', start: new Date(duringMs).toISOString().slice(0, 19).replace('T', ' '), seconds: 60 }]);
  const flags = await t.db.pool.query(`SELECT flagged_suspended, hold_case_id FROM calls_with_flags WHERE subscriber_id = 'ben' ORDER BY started_at`);
  expect(flags.rows.map((r) => [r.flagged_suspended, r.hold_case_id])).toEqual([...Array(5).fill([false, null]), [true, caseId]]);

  await t.env.sleep('4 days');
  const resumed = await until(status(handle), (s) => s.state === 'resumed');
  expect(resumed.decision).toMatchObject({ action: 'suspend' });
  expect((await getSubscriber(t.db.pool, 'ben'))!.status).toBe('active');
  expect(await suspendedAccounts(t.db.pool)).toEqual([]);
  expect(
    (
      await until(
        () => entity.query(statusQuery),
        (s) => !s.suspension,
      )
    ).suspension,
  ).toBeNull();
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'suspended', 'resumed']);
  expect((await getAbuseCase(t.db.pool, caseId))!.state).toBe('resumed');

  await atRest(caseId, 'ben');
  const toBen = t.smtp.received.filter((m) => m.to.includes('ben@example.test'));
  expect(toBen.map((m) => m.subject)).toEqual([`Your RedConnect account is suspended (case ${caseId})`, `Your RedConnect account is active again (case ${caseId})`]);
  expect(toBen[0]!.text).toContain('Reason: Five calls at once from a home line');
  expect(toBen[0]!.text).toContain(`until ${untilDay}`);
  expect(toBen[0]!.text).toContain(`you may appeal: reply to this email or write to ${TEST_SUPPORT_EMAIL}, quoting case ${caseId}`);
  recordHistory('abuse-case-suspended-resumed', await handle.fetchHistory());
});

test('terminate ends the subscription with a final invoice for the month so far, once, and the cycle stops', async () => {
  const day = await yesterday();
  const period = periodOf(Date.parse(day), 'UTC');
  await givenSuspicious('cat', day, { monthlyFeeCents: 2000 });
  const { caseId, handle } = await givenCase('cat', day);
  // Its cycle is running at the month in progress, as the close would have left it.
  const current = periodOf(await t.env.currentTimeMs(), 'UTC');
  await t.env.client.workflow.signalWithStart('subscriberWorkflow', {
    workflowId: subscriberWorkflowId('cat'),
    taskQueue,
    args: [{ subscriberId: 'cat', period: current }],
    signal: 'limitChanged',
    signalArgs: [{ requestId: 'none', minutes: 2500, fromPeriod: current, untilPeriod: current }],
  });

  await handle.signal(decideSignal, { reviewer: 'sam', action: 'terminate', reason: 'Resold as a call centre line' });
  expect(await until(status(handle), (s) => s.settled)).toMatchObject({ state: 'terminated', decision: { action: 'terminate' } });
  const entity = t.env.client.workflow.getHandle(subscriberWorkflowId('cat'));
  const invoice = await until(
    () => getInvoice(t.db.pool, `INV-${current}-cat`),
    (i) => i !== undefined,
  );
  // The last month carries the fee in proportion to the days of service, the termination's day included.
  const {
    rows: [hold],
  } = await t.db.pool.query(`SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM account_holds WHERE case_id = $1`, [caseId]);
  const terminatedOn: string = hold.day;
  const days = Number(terminatedOn.slice(8, 10));
  const ofDays = daysInPeriod(current);
  const fee = Math.floor((2 * 2000 * days + ofDays) / (2 * ofDays));
  expect(invoice).toMatchObject({ period: current, totalCents: fee });
  expect(invoice!.lines[0]!.description).toBe(`Monthly fee, ${current} (${days} of ${ofDays} days)`);
  expect(await entity.query(statusQuery)).toMatchObject({ state: 'terminated' });
  // It stays for the late calls of its last months, then stops.
  await t.env.sleep('120 days');
  await until(
    async () => (await entity.describe()).status.name,
    (name) => name === 'COMPLETED',
  );
  if (period === current) expect(invoice!.calls).toBe(5);
  expect((await getSubscriber(t.db.pool, 'cat'))!.status).toBe('terminated');
  expect(await suspendedAccounts(t.db.pool)).toEqual([expect.objectContaining({ subscriberId: 'cat', status: 'terminated', until: null })]);
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'terminated']);

  await atRest(caseId, 'cat');
  const toCat = t.smtp.received
    .filter((m) => m.to.includes('cat@example.test'))
    .map((m) => m.subject)
    .sort();
  expect(toCat).toEqual([`Your RedConnect invoice for ${current}: ${formatCents(fee)} USD`, `Your RedConnect subscription is terminated (case ${caseId})`].sort());
  recordHistory('abuse-case-terminated', await handle.fetchHistory());
  recordHistory('subscriber-cycle-terminated', await entity.fetchHistory());
});

test('dismiss closes the case and mutes that detector for the subscriber', async () => {
  const day = shiftDay(await yesterday(), -1);
  await givenSuspicious('dan', day);
  await givenCalls(t.db.pool, simultaneousCalls('dan', shiftDay(day, 1)));
  const { caseId, handle } = await givenCase('dan', day);
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'dismiss', reason: 'Small office on one account' });
  expect(await until(status(handle), (s) => s.settled)).toMatchObject({ state: 'dismissed' });
  const today = dayOf(await t.env.currentTimeMs(), 'UTC');
  expect((await t.db.pool.query(`SELECT detector, to_char(day, 'YYYY-MM-DD') AS day FROM abuse_mutes WHERE subscriber_id = 'dan' ORDER BY day`)).rows).toEqual([
    { detector: 'simultaneous-calls', day },
    { detector: 'simultaneous-calls', day: today },
  ]);
  expect((await getSubscriber(t.db.pool, 'dan'))!.status).toBe('active');

  const next = await scan(shiftDay(day, 1));
  expect((await t.db.pool.query(`SELECT count(*)::int AS n FROM abuse_findings WHERE subscriber_id = 'dan'`)).rows[0].n).toBe(1);
  expect(next.cases).not.toContain(caseId);
  expect((await t.db.pool.query(`SELECT count(*)::int AS n FROM abuse_cases WHERE subscriber_id = 'dan'`)).rows[0].n).toBe(1);
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'dismissed']);
  await atRest(caseId);
  expect(t.smtp.received.filter((m) => m.to.includes('dan@example.test'))).toEqual([]);
});

test('support is reminded after 24 hours without a decision, exactly once', async () => {
  const day = await yesterday();
  await givenSuspicious('eve', day);
  const { caseId, handle } = await givenCase('eve', day);
  const reminders = () => t.smtp.received.filter((m) => m.subject.startsWith(`Reminder: abuse case ${caseId} `));
  await t.env.sleep('23 hours');
  // At rest, waiting on its timer: had it reminded early, the reminder would be recorded and sent by now.
  await atRest(caseId);
  expect(await handle.query(abuseCaseStatusQuery)).toMatchObject({ state: 'open', reminded: false });
  expect(await kinds(caseId)).toEqual(['opened', 'finding']);
  expect(reminders()).toHaveLength(0);
  await t.env.sleep('2 hours');
  await until(
    () => Promise.resolve(reminders().length),
    (n) => n === 1,
  );
  expect(reminders()[0]!.to).toEqual([TEST_SUPPORT_EMAIL]);
  expect(reminders()[0]!.subject).toBe(`Reminder: abuse case ${caseId} (eve) has waited 24 hours`);
  await t.env.sleep('3 days');
  await atRest(caseId);
  expect(reminders()).toHaveLength(1);
  expect(await handle.query(abuseCaseStatusQuery)).toMatchObject({ state: 'open', reminded: true });
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'reminded']);
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'dismiss', reason: 'Checked with the customer' });
  await until(status(handle), (s) => s.settled);
});

test('invalid decisions change nothing and are recorded; a suspension cannot be suspended again, but can be terminated', async () => {
  const day = await yesterday();
  await givenSuspicious('fay', day);
  const { caseId, handle } = await givenCase('fay', day);
  const tomorrow = shiftDay(dayOf(await t.env.currentTimeMs(), 'UTC'), 1);
  const today = dayOf(await t.env.currentTimeMs(), 'UTC');
  await handle.signal(decideSignal, { reviewer: 'nobody', action: 'suspend', reason: 'x' });
  await handle.signal(decideSignal, { reviewer: 'old', action: 'suspend', reason: 'x' });
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'block', reason: 'x' } as never);
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'suspend', reason: '  ' });
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'terminate', reason: 'x', until: tomorrow });
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'suspend', reason: 'x', until: today });
  const afterInvalid = await until(status(handle), (s) => s.rejectedDecisions.length === 6);
  expect(afterInvalid.state).toBe('open');
  expect(afterInvalid.rejectedDecisions.map((r) => r.problem)).toEqual([
    'reviewer "nobody" is not support staff; see `billing staff list`',
    'reviewer "old" is no longer active support staff',
    'decide action "block" must be "suspend", "terminate" or "dismiss"',
    'decide reason "  " must not be empty: say why',
    `decide until "${tomorrow}" applies only to "suspend", not "terminate"`,
    `decide until "${today}" must be after today (${today}) in the subscriber's zone`,
  ]);
  expect((await getSubscriber(t.db.pool, 'fay'))!.status).toBe('active');

  await handle.signal(decideSignal, { reviewer: 'sam', action: 'suspend', reason: 'Until we hear from them' });
  await until(status(handle), (s) => s.settled && s.state === 'suspended');
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'suspend', reason: 'again' });
  await until(status(handle), (s) => s.rejectedDecisions.length === 7);
  await handle.signal(decideSignal, { reviewer: 'sam', action: 'terminate', reason: 'No answer' });
  const final = await until(status(handle), (s) => s.settled && s.state === 'terminated');
  expect(final.rejectedDecisions[6]!.problem).toContain('already suspended');
  expect((await getSubscriber(t.db.pool, 'fay'))!.status).toBe('terminated');
  const events = await abuseCaseEvents(t.db.pool, caseId);
  expect(events.map((e) => [e.kind, e.actor])).toEqual([
    ['opened', 'system'],
    ['finding', 'system'],
    ...Array.from({ length: 2 }, (_, i) => ['invalid-decision', ['nobody', 'old'][i]]),
    ...Array.from({ length: 4 }, () => ['invalid-decision', 'sam']),
    ['suspended', 'sam'],
    ['invalid-decision', 'sam'],
    ['terminated', 'sam'],
  ]);
  expect(events[2]!.detail).toMatchObject({ payload: { reviewer: 'nobody', action: 'suspend' } });
});

test('excessive use in a first partial month is measured against the allowance of its days, as the invoice rates it', async () => {
  // The last day of a month, and the subscriber's first: 1 day of service, an allowance of ceil(2400/days) min.
  const day = shiftDay(`${(await yesterday()).slice(0, 7)}-01`, -1);
  const period = day.slice(0, 7);
  await givenSubscriber(t.db.pool, { id: 'newcomer', serviceStart: day });
  // 5 calls of 3500 s one after the other: 291.7 min, past 300 % of a one-day allowance, far below that of a whole month.
  await givenCalls(
    t.db.pool,
    Array.from({ length: 5 }, (_, i) => ({ subscriber: 'newcomer', start: `${day} ${String(8 + i).padStart(2, '0')}:00:00`, seconds: 3500 })),
  );
  await scan(day);
  const allowance = Math.ceil(2400 / daysInPeriod(period)) * 60;
  const { rows } = await t.db.pool.query(`SELECT evidence FROM abuse_findings WHERE subscriber_id = 'newcomer' AND detector = 'excessive-use'`);
  expect(rows.map((r) => r.evidence)).toEqual([expect.objectContaining({ measured: { monthToDateSeconds: 17_500, allowanceSeconds: allowance } })]);
});

test("a decision by Update answers once carried out; the core's refusal comes back at once and leaves nothing; a lift by Update ends the case", async () => {
  const day = await yesterday();
  await givenSuspicious('hal', day);
  const { caseId, handle } = await givenCase('hal', day);
  const today = dayOf(await t.env.currentTimeMs(), 'UTC');

  expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ reviewer: 'sam', action: 'suspend', reason: 'x', until: today }] }))).toBe(
    `decide until "${today}" must be after today (${today}) in the subscriber's zone`,
  );
  expect(await handle.query(abuseCaseStatusQuery)).toMatchObject({ state: 'open', rejectedDecisions: [] });
  expect(await kinds(caseId)).toEqual(['opened', 'finding']);
  expect(acceptedUpdates(await handle.fetchHistory())).toBe(0);
  expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ reviewer: 'nobody', action: 'suspend', reason: 'x' }] }))).toBe(
    'reviewer "nobody" is not support staff; see `billing staff list`',
  );

  const suspended = await handle.executeUpdate(decideUpdate, { args: [{ reviewer: 'sam', action: 'suspend', reason: 'Investigating' }] });
  expect(suspended).toMatchObject({ state: 'suspended', settled: true, decision: { action: 'suspend', reviewer: 'sam' } });
  expect((await getSubscriber(t.db.pool, 'hal'))!.status).toBe('suspended');
  expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ reviewer: 'sam', action: 'suspend', reason: 'again' }] }))).toContain('already suspended');

  const dismissed = await handle.executeUpdate(decideUpdate, { args: [{ reviewer: 'sam', action: 'dismiss', reason: 'Cleared' }] });
  expect(dismissed).toMatchObject({ state: 'dismissed', settled: true, decision: { action: 'dismiss' } });
  expect((await getSubscriber(t.db.pool, 'hal'))!.status).toBe('active');
  expect(await kinds(caseId)).toEqual(['opened', 'finding', 'invalid-decision', 'suspended', 'dismissed']);
  await atRest(caseId, 'hal');
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect(acceptedUpdates(await handle.fetchHistory())).toBe(3);
  recordHistory('abuse-case-decided-by-update', await handle.fetchHistory());
});

describe('the CLI', () => {
  const billing = cliAgainst(() => ({ env: t.env, databaseUrl: t.db.url, taskQueue }));

  test('exits 2 with one line on decisions that break the rules; a valid one is carried out; list, show and suspended print the state', async () => {
    const day = await yesterday();
    await givenSuspicious('gus', day, { numbers: ['+15550199'] });
    const { caseId, handle } = await givenCase('gus', day);
    const cases: [string[], string][] = [
      [['abuse', 'decide', caseId, '--reviewer', 'nobody', '--action', 'suspend', '--reason', 'x'], 'reviewer "nobody" is not support staff'],
      [['abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'block', '--reason', 'x'], '--action "block"'],
      [['abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'suspend', '--reason', 'x', '--until', '2020-01-01'], 'decide until "2020-01-01" must be after today'],
      [['abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'suspend', '--reason', 'x', '--until', 'soon'], '--until "soon"'],
      [['abuse', 'decide', 'AC-999', '--reviewer', 'sam', '--action', 'dismiss', '--reason', 'x'], 'abuse case "AC-999" does not exist'],
      [['abuse', 'list', '--status', 'maybe'], '--status "maybe"'],
      [['abuse', 'scan', '--date', '2026-02-30'], '--date "2026-02-30"'],
    ];
    for (const [args, message] of cases) {
      const result = await billing(...args);
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 2, stderr: expect.stringContaining(message) });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await handle.query(abuseCaseStatusQuery)).rejectedDecisions).toEqual([]);

    const listed = JSON.parse((await billing('abuse', 'list', '--status', 'open', '--json')).stdout) as { id: string }[];
    expect(listed.map((r) => r.id)).toContain(caseId);
    const suspended = await billing('abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'suspend', '--reason', 'Investigating');
    expect(suspended).toMatchObject({ code: 0 });
    expect(suspended.stdout).toContain(`${caseId} (gus): suspended by sam until lifted`);
    const again = await billing('abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'suspend', '--reason', 'again');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already suspended');
    const view = JSON.parse((await billing('abuse', 'suspended', '--json')).stdout) as { subscriberId: string; number: string }[];
    expect(view).toContainEqual(expect.objectContaining({ subscriberId: 'gus', number: '+15550199' }));
    const shown = await billing('abuse', 'show', caseId);
    expect(shown.stdout).toMatch(/simultaneous-calls/);
    expect(shown.stdout).toMatch(/suspended\s+sam/);
    const statusOut = await billing('status', 'gus');
    expect(statusOut.stdout).toContain(`abuse case ${caseId}: suspended`);
    const lifted = await billing('abuse', 'decide', caseId, '--reviewer', 'sam', '--action', 'dismiss', '--reason', 'Cleared');
    expect(lifted).toMatchObject({ code: 0 });
    expect((await getSubscriber(t.db.pool, 'gus'))!.status).toBe('active');
  });
});
