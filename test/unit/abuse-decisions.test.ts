/** Support's `decide` on an abuse case, checked by the core before anything changes (issue 7). */
import { checkAbuseDecision, type AbuseCaseState } from '../../billing/abuse';
import { abuseCaseOpenedEmail, accountSuspendedEmail } from '../../billing/abuse/emails';

const TODAY = '2026-11-10';
const check = (payload: unknown, state: AbuseCaseState = 'open') => checkAbuseDecision(payload, { state, today: TODAY });

test('a valid decision of each kind, with the reason trimmed', () => {
  expect(check({ reviewer: 'sam', action: 'suspend', reason: ' Dialer ', until: '2026-11-11' })).toEqual({ decision: { action: 'suspend', reviewer: 'sam', reason: 'Dialer', untilDay: '2026-11-11' } });
  expect(check({ reviewer: 'sam', action: 'suspend', reason: 'Dialer' })).toEqual({ decision: { action: 'suspend', reviewer: 'sam', reason: 'Dialer', untilDay: null } });
  expect(check({ reviewer: 'sam', action: 'terminate', reason: 'Resold' })).toMatchObject({ decision: { action: 'terminate', untilDay: null } });
  expect(check({ reviewer: 'sam', action: 'dismiss', reason: 'Known office' })).toMatchObject({ decision: { action: 'dismiss' } });
});

test.each([
  [{ action: 'suspend', reason: 'x' }, 'decide reviewer missing'],
  [{ reviewer: 'a b', action: 'suspend', reason: 'x' }, 'decide reviewer "a b" must be 1-64 letters'],
  [{ reviewer: 'sam', action: 'block', reason: 'x' }, 'decide action "block" must be "suspend", "terminate" or "dismiss"'],
  [{ reviewer: 'sam', action: 'suspend' }, 'decide reason missing'],
  [{ reviewer: 'sam', action: 'suspend', reason: '   ' }, 'decide reason "   " must not be empty: say why'],
  [{ reviewer: 'sam', action: 'suspend', reason: 'x', until: '2026-02-30' }, 'decide until "2026-02-30" is not a real calendar date'],
  [{ reviewer: 'sam', action: 'suspend', reason: 'x', until: TODAY }, `decide until "${TODAY}" must be after today (${TODAY}) in the subscriber's zone`],
  [{ reviewer: 'sam', action: 'dismiss', reason: 'x', until: '2026-12-01' }, 'decide until "2026-12-01" applies only to "suspend", not "dismiss"'],
  [{ reviewer: 'sam', action: 'suspend', reason: 'x', extra: 1 }, 'decide payload'],
  ['suspend', 'decide payload "suspend"'],
  [null, 'decide payload null'],
])('%j is refused: %s', (payload, problem) => {
  const result = check(payload);
  expect('problem' in result && result.problem).toEqual(expect.stringContaining(problem));
});

test('a suspended case may be terminated or lifted, not suspended again; a closed case takes nothing', () => {
  expect(check({ reviewer: 'sam', action: 'terminate', reason: 'x' }, 'suspended')).toMatchObject({ decision: { action: 'terminate' } });
  expect(check({ reviewer: 'sam', action: 'dismiss', reason: 'x' }, 'suspended')).toMatchObject({ decision: { action: 'dismiss' } });
  expect(check({ reviewer: 'sam', action: 'suspend', reason: 'x' }, 'suspended')).toEqual({ problem: expect.stringContaining('already suspended') });
  for (const state of ['resumed', 'terminated', 'dismissed'] as const) {
    expect(check({ reviewer: 'sam', action: 'dismiss', reason: 'x' }, state)).toEqual({ problem: `decide dismiss: the case is already ${state}: the first decision stands` });
  }
});

test('the emails name the case, the findings, the way to decide and the way to appeal', () => {
  const data = { caseId: 'AC-7', subscriberId: 'ann', subscriberName: 'Ann', findings: [{ detector: 'dialer', day: '2026-11-09', summary: '250 short calls' }, { detector: 'dialer', day: '2026-11-10', summary: '300 short calls' }] };
  const opened = abuseCaseOpenedEmail(data);
  expect(opened.subject).toBe('Abuse case AC-7: ann, dialer');
  expect(opened.text).toContain('2026-11-09 dialer: 250 short calls');
  expect(opened.text).toContain(`temporal workflow signal --workflow-id abuse-case-AC-7 --name decide`);
  const suspended = accountSuspendedEmail({ ...data, reason: 'Robocalls', until: '2026-12-01', supportEmail: 'help@x.test' });
  expect(suspended.text).toContain('suspended until 2026-12-01');
  expect(suspended.text).toContain('Reason: Robocalls');
  expect(suspended.text).toContain('write to help@x.test, quoting case AC-7');
  expect(suspended.html).not.toContain('<script');
});
