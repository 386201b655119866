/** The rules of a policy revision: parameters, the earliest effective date, differences, activation and its hold. */
import { policyCancelledEmail, policyNoticeEmail } from '../../billing/policy-emails';
import { DEFAULT_POLICY_RULES } from '../../billing/policy';
import {
  activationPlan,
  cancelProblem,
  dayStartMs,
  effectiveDateProblem,
  forcedActivationProblem,
  parsePolicyChanges,
  policyDifferences,
  reminderAtMs,
  rulesProblem,
} from '../../billing/policy-revision';

const DAY = 86_400_000;
const at = (iso: string): number => Date.parse(iso);

describe('publishing', () => {
  test('an effective date less than the notice period away is refused, naming the earliest allowed date', () => {
    expect(effectiveDateProblem('2026-12-25', '2026-11-26', 30)).toBe('--effective 2026-12-25 is less than the 30-day notice period away: the earliest allowed date is 2026-12-26');
    expect(effectiveDateProblem('2026-12-26', '2026-11-26', 30)).toBeUndefined();
    expect(effectiveDateProblem('2027-02-28', '2027-01-30', 30)).toBe('--effective 2027-02-28 is less than the 30-day notice period away: the earliest allowed date is 2027-03-01');
  });

  test('parameters are read from the CLI text: money to micro-units and cents, never floats', () => {
    expect(parsePolicyChanges({ includedMinutes: '3000', overageRateMicros: '0.045', planCatalog: '500:15.00,1000:24.5', alertThresholdsPercent: '75,90,100' })).toEqual({
      includedMinutes: 3000,
      overageRateMicros: 45_000,
      planCatalog: [
        { minutes: 500, feeCents: 1500 },
        { minutes: 1000, feeCents: 2450 },
      ],
      alertThresholdsPercent: [75, 90, 100],
    });
    expect(() => parsePolicyChanges({ overageRateMicros: '0.05.1' })).toThrow('--overage-rate: rate "0.05.1" is not a non-negative decimal number');
    expect(() => parsePolicyChanges({ includedMinutes: '-5' })).toThrow('--included-minutes: minutes "-5" must be a whole number');
    expect(() => parsePolicyChanges({ planCatalog: '500-15' })).toThrow('plan "500-15" must be MINUTES:FEE');
  });

  test('rules that cannot be a policy are refused with the flag and value', () => {
    expect(rulesProblem(DEFAULT_POLICY_RULES)).toBeUndefined();
    expect(rulesProblem({ ...DEFAULT_POLICY_RULES, alertThresholdsPercent: [100, 80] })).toContain('--alert-thresholds 100,80');
    expect(rulesProblem({ ...DEFAULT_POLICY_RULES, roundingIncrementSeconds: 0 })).toContain('--rounding-increment 0');
    expect(rulesProblem({ ...DEFAULT_POLICY_RULES, noticeDays: 3 })).toContain('--notice-days 3 must be 7 to 365 days');
    expect(
      rulesProblem({
        ...DEFAULT_POLICY_RULES,
        planCatalog: [
          { minutes: 1000, feeCents: 1 },
          { minutes: 500, feeCents: 1 },
        ],
      }),
    ).toContain('increasing order');
  });
});

test('the differences name each changed parameter, old and new side by side, in text and HTML', () => {
  const after = { ...DEFAULT_POLICY_RULES, includedMinutes: 3000, overageRateMicros: 40_000 };
  const differences = policyDifferences(DEFAULT_POLICY_RULES, after);
  expect(differences).toEqual([
    { parameter: 'includedMinutes', label: 'Included minutes a month', before: '2400 min', after: '3000 min' },
    { parameter: 'overageRateMicros', label: 'Overage rate', before: '0.05 USD a minute', after: '0.04 USD a minute' },
  ]);
  const notice = policyNoticeEmail({ subscriberId: 'ada', subscriberName: 'Ada <Lovelace>', version: 2, effectiveFrom: '2027-01-01', differences });
  expect(notice.subject).toBe('Changes to the RedConnect Fair Usage Policy from 2027-01-01');
  expect(notice.text).toMatch(/Included minutes a month\s+2400 min\s+3000 min/);
  expect(notice.html).toContain('<td>Overage rate</td><td>0.05 USD a minute</td><td><strong>0.04 USD a minute</strong></td>');
  expect(notice.html).toContain('Hello Ada &lt;Lovelace&gt;,');
  expect(policyCancelledEmail({ subscriberId: 'ada', subscriberName: null, version: 2, effectiveFrom: '2027-01-01', differences }).text).toContain('2400 min (unchanged)');
});

describe('activation', () => {
  const effectiveFrom = '2027-01-01';
  const base = { effectiveFrom, noticeDays: 30 };
  const told = (sentIso: string) => ({ allQueued: true, unsentAtPublication: 0, unsentJoiners: 0, lastSentAtPublicationMs: at(sentIso) });

  test('everyone told in time: it waits for the date, then activates from it', () => {
    expect(activationPlan({ ...base, nowMs: at('2026-12-01T10:00:00Z'), notices: told('2026-12-01T09:00:00Z') })).toEqual({ kind: 'wait', atMs: dayStartMs(effectiveFrom) });
    expect(activationPlan({ ...base, nowMs: dayStartMs(effectiveFrom), notices: told('2026-12-01T09:00:00Z') })).toEqual({ kind: 'activate', activeFrom: effectiveFrom });
    // A worker down on the day changes nothing: it applies from the date subscribers were told.
    expect(activationPlan({ ...base, nowMs: at('2027-01-03T00:00:00Z'), notices: told('2026-12-01T09:00:00Z') })).toEqual({ kind: 'activate', activeFrom: effectiveFrom });
  });

  test('notices that went out late hold it until the notice period has passed for everyone', () => {
    expect(activationPlan({ ...base, nowMs: at('2026-12-12T10:00:00Z'), notices: told('2026-12-12T09:00:00Z') })).toEqual({
      kind: 'hold',
      reason: 'notice-period',
      activeFrom: '2027-01-11',
      atMs: dayStartMs('2027-01-11'),
    });
    expect(activationPlan({ ...base, nowMs: dayStartMs('2027-01-11'), notices: told('2026-12-12T09:00:00Z') })).toEqual({ kind: 'activate', activeFrom: '2027-01-11' });
  });

  test('notices not sent hold it as soon as the date can no longer be kept, and at the date in any case', () => {
    const unsent = { allQueued: true, unsentAtPublication: 3, unsentJoiners: 0, lastSentAtPublicationMs: null };
    expect(activationPlan({ ...base, nowMs: at('2026-12-01T10:00:00Z'), notices: unsent })).toEqual({ kind: 'wait', atMs: dayStartMs('2026-12-03') });
    expect(activationPlan({ ...base, nowMs: at('2026-12-02T10:00:00Z'), notices: unsent })).toEqual({ kind: 'wait', atMs: dayStartMs('2026-12-03') });
    expect(activationPlan({ ...base, nowMs: dayStartMs('2026-12-03'), notices: unsent })).toEqual({ kind: 'hold', reason: 'notices-unsent', unsent: 3 });
    const joinerUnsent = { allQueued: true, unsentAtPublication: 0, unsentJoiners: 1, lastSentAtPublicationMs: at('2026-12-01T09:00:00Z') };
    expect(activationPlan({ ...base, nowMs: at('2026-12-20T10:00:00Z'), notices: joinerUnsent })).toEqual({ kind: 'wait', atMs: dayStartMs(effectiveFrom) });
    expect(activationPlan({ ...base, nowMs: dayStartMs(effectiveFrom), notices: joinerUnsent })).toEqual({ kind: 'hold', reason: 'notices-unsent', unsent: 1 });
  });

  test('the reminder is 7 days before the date', () => {
    expect(reminderAtMs(effectiveFrom)).toBe(dayStartMs(effectiveFrom) - 7 * DAY);
  });
});

test('cancel before the date only; ops activate by hand only once it is held', () => {
  const effectiveFrom = '2027-01-01';
  expect(cancelProblem({ version: 2, state: 'scheduled', effectiveFrom, nowMs: at('2026-12-31T23:59:59Z') })).toBeUndefined();
  expect(cancelProblem({ version: 2, state: 'scheduled', effectiveFrom, nowMs: dayStartMs(effectiveFrom) })).toContain(
    "policy version 2's effective date 2027-01-01 has passed: a revision can be cancelled only before that date",
  );
  expect(cancelProblem({ version: 2, state: 'active', effectiveFrom, nowMs: 0 })).toBe(
    'policy version 2 is active since its effective date 2027-01-01: a revision can be cancelled only before that date; publish a new revision to change the rules again',
  );
  expect(cancelProblem({ version: 2, state: 'cancelled', effectiveFrom, nowMs: 0 })).toBe('policy version 2 is already cancelled');
  expect(forcedActivationProblem({ version: 2, effectiveFrom, nowMs: at('2026-12-20T00:00:00Z'), operator: 'kim' })).toContain(
    'can be activated by hand only once that date has passed',
  );
  expect(forcedActivationProblem({ version: 2, effectiveFrom, nowMs: dayStartMs(effectiveFrom), operator: '' })).toContain('activate needs {"operator"');
  expect(forcedActivationProblem({ version: 2, effectiveFrom, nowMs: dayStartMs(effectiveFrom), operator: 'kim' })).toBeUndefined();
});
