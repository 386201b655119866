import { checkDecision, limitForPeriod, limitRequestProblem, reviewerProblem } from '../../billing/limits';

const rules = { currentLimitMinutes: 2400, ceilingMinutes: 20_000 };
const request = { ...rules, requestedMinutes: 4000, currentPeriod: '2027-01' };

test('the limit of a month is the grant covering it that started last', () => {
  const grants = [
    { requestId: 'LR-1', minutes: 4000, fromPeriod: '2027-01', untilPeriod: '2027-03' },
    { requestId: 'LR-2', minutes: 6000, fromPeriod: '2027-03', untilPeriod: null },
  ];
  expect(['2026-12', '2027-01', '2027-02', '2027-03', '2030-01'].map((p) => limitForPeriod(grants, p))).toEqual([undefined, 4000, 4000, 6000, 6000]);
  expect(limitForPeriod([grants[0]!], '2027-04')).toBeUndefined();
});

test('a request needs an active subscriber, a limit above the current one and within the ceiling, and a reason', () => {
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: 4000, reason: 'season' }, rules)).toBeUndefined();
  expect(limitRequestProblem({ subscriberStatus: 'suspended', minutes: 4000, reason: 'season' }, rules)).toContain('suspended');
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: 2400, reason: 'season' }, rules)).toBe('minutes 2400 must be above the current limit of 2400 minutes');
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: 20_001, reason: 'season' }, rules)).toBe('minutes 20001 is above the ceiling of 20000 minutes');
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: 4000, reason: ' ' }, rules)).toContain('reason must not be empty');
});

test('decisions: the approved limit defaults to the one asked for; a rejection needs a reason; unknown fields are refused', () => {
  expect(checkDecision('approve', { reviewer: 'sam' }, request)).toEqual({ decision: { kind: 'approve', reviewer: 'sam', minutes: 4000, untilPeriod: null, note: null } });
  expect(checkDecision('approve', { reviewer: 'sam', minutes: 3000, until: '2027-01', note: 'ok' }, request)).toEqual({ decision: { kind: 'approve', reviewer: 'sam', minutes: 3000, untilPeriod: '2027-01', note: 'ok' } });
  expect(checkDecision('approve', { reviewer: 'sam', until: '2026-12' }, request)).toEqual({ problem: 'approve until "2026-12" is before the month in progress (2027-01)' });
  expect(checkDecision('approve', { reviewer: 'sam', minutes: 3.5 }, request)).toEqual({ problem: 'approve minutes 3.5 must be a whole number of minutes' });
  expect(checkDecision('approve', { minutes: 3000 }, request)).toMatchObject({ problem: expect.stringContaining('approve reviewer missing') });
  expect(checkDecision('approve', { reviewer: 'sam', minute: 3000 }, request)).toMatchObject({ problem: expect.stringContaining('approve') });
  expect(checkDecision('reject', { reviewer: 'sam' }, request)).toMatchObject({ problem: expect.stringContaining('reject reason') });
  expect(checkDecision('reject', { reviewer: 'sam', reason: ' no ' }, request)).toEqual({ decision: { kind: 'reject', reviewer: 'sam', reason: 'no' } });
  expect(reviewerProblem('x', undefined)).toContain('is not support staff');
  expect(reviewerProblem('x', { active: false })).toContain('no longer active');
  expect(reviewerProblem('x', { active: true })).toBeUndefined();
});
