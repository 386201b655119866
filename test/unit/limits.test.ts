import { checkDecision, limitForPeriod, limitRequestProblem, reviewerProblem } from '../../billing/limits';
import { grantsOvertaken } from '../../billing/limits';
import { limitRequestReminderEmail, limitRequestSupportNoticeEmail } from '../../billing/limit-emails';

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
  expect(checkDecision('approve', { reviewer: 'sam', minutes: 3000, until: '2027-01', note: 'ok' }, request)).toEqual({
    decision: { kind: 'approve', reviewer: 'sam', minutes: 3000, untilPeriod: '2027-01', note: 'ok' },
  });
  expect(checkDecision('approve', { reviewer: 'sam', until: '2026-12' }, request)).toEqual({ problem: 'approve until "2026-12" is before the month in progress (2027-01)' });
  expect(checkDecision('approve', { reviewer: 'sam', minutes: 3.5 }, request)).toEqual({ problem: 'approve minutes 3.5 must be a whole number of minutes' });
  expect(checkDecision('approve', { minutes: 3000 }, request)).toMatchObject({ problem: expect.stringContaining('approve reviewer missing') });
  expect(checkDecision('approve', { reviewer: 'sam', minute: 3000 }, request)).toMatchObject({ problem: expect.stringContaining('approve') });
  expect(checkDecision('reject', { reviewer: 'sam' }, request)).toMatchObject({ problem: expect.stringContaining('reject reason') });
  expect(checkDecision('reject', { reviewer: 'sam', reason: ' no ' }, request)).toEqual({ decision: { kind: 'reject', reviewer: 'sam', reason: 'no' } });
  expect(reviewerProblem('x', undefined)).toContain('is not support staff');
  expect(reviewerProblem('x', { active: false })).toContain('no longer active');
  expect(reviewerProblem('x', { active: true })).toBeUndefined();
  expect(reviewerProblem('x', { active: true, role: 'support' })).toBeUndefined();
  expect(reviewerProblem('x', { active: true, role: 'billing-ops' })).toBe('reviewer "x" is billing-ops staff, not support: only support staff decide requests and cases');
});

test('a limit of 0 or below is refused by the rule that applies: above the current limit', () => {
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: 0, reason: 'season' }, rules)).toBe('minutes 0 must be above the current limit of 2400 minutes');
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: -5, reason: 'season' }, rules)).toBe('minutes -5 must be above the current limit of 2400 minutes');
  expect(checkDecision('approve', { reviewer: 'sam', minutes: 0 }, request)).toEqual({ problem: 'approve minutes 0 must be above the current limit of 2400 minutes' });
});

test('a number too large for JSON (1e400 reads as Infinity) is refused as out of range, never shown as null', () => {
  const approve = JSON.parse('{"reviewer": "sam", "minutes": 1e400}') as unknown;
  expect(checkDecision('approve', approve, request)).toEqual({
    problem: 'approve minutes is a number out of range (such as 1e400, which no number can hold): give a whole number in range',
  });
  // `limit request --minutes` with 401 digits reads as Infinity too.
  expect(limitRequestProblem({ subscriberStatus: 'active', minutes: Number(`1${'0'.repeat(400)}`), reason: 'season' }, rules)).toBe(
    'minutes (a number out of range) is above the ceiling of 20000 minutes',
  );
});

test('support sees whether the subscriber asking is a business account; anyone may ask', () => {
  const data = {
    requestId: 'LR-3',
    subscriberId: 'acme',
    subscriberName: 'Acme',
    requestedMinutes: 4000,
    reason: 'season',
    reminderHours: 48,
    expiryDays: 14,
    currentLimitMinutes: 2400,
  };
  expect(limitRequestSupportNoticeEmail({ ...data, business: true }).text).toContain(
    'Subscriber acme (Acme, business account) asks to raise their monthly limit from 2400 to 4000 minutes.',
  );
  expect(limitRequestSupportNoticeEmail({ ...data, business: false }).text).toContain('Subscriber acme (Acme, not a business account) asks');
  expect(limitRequestReminderEmail({ ...data, business: true, hoursWaiting: 48, expiresAt: '2026-11-20T10:00:00Z' }).text).toContain(
    'Limit request LR-3 (subscriber acme (Acme, business account), 4000 minutes a month) has had no decision',
  );
});

describe('grantsOvertaken', () => {
  const grant = (requestId: string, minutes: number, fromPeriod: string, untilPeriod: string | null) => ({ requestId, minutes, fromPeriod, untilPeriod });
  it('lists the grants in force from the effective month that the new included minutes reach', () => {
    const grants = [grant('a', 2600, '2026-01', null), grant('b', 3000, '2026-01', '2027-06'), grant('c', 2800, '2026-01', '2026-12'), grant('d', 4000, '2026-01', null)];
    expect(grantsOvertaken(grants, 3000, '2027-01-15').map((g) => g.requestId)).toEqual(['a', 'b']);
    expect(grantsOvertaken(grants, 2400, '2027-01-15')).toEqual([]);
  });
});
