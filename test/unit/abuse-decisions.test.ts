/** Support's `decide` on an abuse case, checked by the core before anything changes (issue 7). */
import fc from 'fast-check';
import { ABUSE_ACTIONS, ABUSE_CASE_STATES, awaitsDecision, checkAbuseDecision, nextCaseState, type AbuseCaseState } from '../../billing/abuse';
import { abuseCaseOpenedEmail, accountSuspendedEmail } from '../../billing/abuse/emails';

const TODAY = '2026-11-10';
const check = (payload: unknown, state: AbuseCaseState = 'open') => checkAbuseDecision(payload, { state, today: TODAY });

test('a valid decision of each kind, with the reason trimmed', () => {
  expect(check({ reviewer: 'sam', action: 'suspend', reason: ' Dialer ', until: '2026-11-11' })).toEqual({
    decision: { action: 'suspend', reviewer: 'sam', reason: 'Dialer', untilDay: '2026-11-11' },
  });
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
  const data = {
    caseId: 'AC-7',
    subscriberId: 'ann',
    subscriberName: 'Ann',
    findings: [
      { detector: 'dialer', day: '2026-11-09', summary: '250 short calls' },
      { detector: 'dialer', day: '2026-11-10', summary: '300 short calls' },
    ],
  };
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

describe('nextCaseState: the one state machine of a case, for the workflow and the database', () => {
  it('an open case: suspend holds the account, terminate ends it, dismiss mutes the detectors', () => {
    expect(nextCaseState('open', 'suspend')).toEqual({ state: 'suspended', hold: 'suspended', endsSuspension: false, mutesDetectors: false, closed: false });
    expect(nextCaseState('open', 'terminate')).toEqual({ state: 'terminated', hold: 'terminated', endsSuspension: false, mutesDetectors: false, closed: true });
    expect(nextCaseState('open', 'dismiss')).toEqual({ state: 'dismissed', hold: null, endsSuspension: false, mutesDetectors: true, closed: true });
  });

  it('a suspended case: escalated, lifted (the suspension ends), or over at its day; not suspended again', () => {
    expect(nextCaseState('suspended', 'terminate')).toMatchObject({ state: 'terminated', hold: 'terminated', endsSuspension: false, closed: true });
    expect(nextCaseState('suspended', 'dismiss')).toMatchObject({ state: 'dismissed', hold: null, endsSuspension: true, mutesDetectors: true });
    expect(nextCaseState('suspended', 'suspension-ended')).toEqual({ state: 'resumed', hold: null, endsSuspension: true, mutesDetectors: false, closed: true });
    expect(nextCaseState('suspended', 'suspend')).toEqual({ refused: expect.stringContaining('already suspended') });
  });

  it('a closed case takes nothing, and only a suspension can end: a retry of a step done is refused', () => {
    for (const from of ['resumed', 'terminated', 'dismissed'] as const) {
      for (const action of ABUSE_ACTIONS) expect(nextCaseState(from, action)).toEqual({ refused: `decide ${action}: the case is already ${from}: the first decision stands` });
      expect(awaitsDecision(from)).toBe(false);
    }
    expect(nextCaseState('open', 'suspension-ended')).toEqual({ refused: 'the case is open, not suspended: no suspension to end' });
    expect(nextCaseState('resumed', 'suspension-ended')).toHaveProperty('refused');
  });

  it('property: every step leaves open for good, and a state that takes no decision is closed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ABUSE_CASE_STATES), fc.constantFrom(...ABUSE_ACTIONS, 'suspension-ended' as const), (from, event) => {
        const step = nextCaseState(from, event);
        if ('refused' in step) return;
        expect(step.state).not.toBe('open');
        expect(step.closed).toBe(!awaitsDecision(step.state));
      }),
    );
  });

  it('checkAbuseDecision refuses exactly what the state machine refuses', () => {
    for (const state of ABUSE_CASE_STATES) {
      for (const action of ABUSE_ACTIONS) {
        const step = nextCaseState(state, action);
        const checked = checkAbuseDecision({ reviewer: 'sam', action, reason: 'x' }, { state, today: TODAY });
        expect(checked).toEqual('refused' in step ? { problem: step.refused } : { decision: { action, reviewer: 'sam', reason: 'x', untilDay: null } });
      }
    }
  });
});
