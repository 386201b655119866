/**
 * The policy impact preview's comparison (issue 16, part 4), pure: each month re-rated under the
 * terms in force then and under the same facts with the proposed policy, to the cent, with the
 * minute plans the overage calls for; the month range people type; the CSV export.
 */
import { INITIAL_POLICY, type PolicyVersion } from '../../billing/policy';
import { comparePolicies, notClosedProblem, parseMonthRange, previewCsv, previewMonthProblem, proposedPolicy, type PreviewMonthInput } from '../../billing/policy-preview';
import type { PeriodFacts } from '../../billing/terms';

const v1 = INITIAL_POLICY;
/** In force from October: the overage rate doubled. */
const v2: PolicyVersion = { ...INITIAL_POLICY, version: 2, effectiveFrom: '2026-10-01', overageRateMicros: 100_000 };
const policyOf = (period: string): PolicyVersion => (period >= '2026-10' ? v2 : v1);

function month(subscriberId: string, period: string, usedMinutes: number, facts: Partial<PeriodFacts> = {}): PreviewMonthInput {
  return {
    subscriberId,
    facts: { period, timezone: 'UTC', monthlyFeeCents: 1000, serviceStart: '2026-01-01', policy: policyOf(period), plan: null, grants: [], ...facts },
    durations: [{ seconds: 60, calls: usedMinutes }],
  };
}

const months: PreviewMonthInput[] = [
  // ann: 100, 300, 200 min over: a 500-minute plan from November under the terms in force, none proposed.
  month('ann', '2026-08', 2500),
  month('ann', '2026-09', 2700),
  month('ann', '2026-10', 2600),
  // bob: a granted limit of 2,500 minutes covers 2,450 either way.
  month('bob', '2026-09', 2450, { monthlyFeeCents: 0, grants: [{ requestId: 'LR-1', minutes: 2500, fromPeriod: '2026-08', untilPeriod: null }] }),
  month('bob', '2026-08', 2450, { monthlyFeeCents: 0, grants: [{ requestId: 'LR-1', minutes: 2500, fromPeriod: '2026-08', untilPeriod: null }] }),
  // carl: from 20 August (12 of 31 days, fee 31.00 → 12.00), then over every month.
  month('carl', '2026-08', 1000, { monthlyFeeCents: 3100, serviceStart: '2026-08-20' }),
  month('carl', '2026-09', 3100, { monthlyFeeCents: 3100, serviceStart: '2026-08-20' }),
  month('carl', '2026-10', 3500, { monthlyFeeCents: 3100, serviceStart: '2026-08-20' }),
];
const periods = ['2026-08', '2026-09', '2026-10'];
const proposed = proposedPolicy(v2, { includedMinutes: 3000, overageRateMicros: 40_000 });

test('the proposed policy is the active version with the parameters given', () => {
  expect(proposed).toEqual({ ...v2, includedMinutes: 3000, overageRateMicros: 40_000 });
});

test('each month is rated under the version in force then, and under the proposed one, to the cent', () => {
  const preview = comparePolicies(months, proposed, periods);
  const [ann, bob, carl] = preview.subscribers;
  expect(preview.subscribers.map((s) => s.subscriberId)).toEqual(['ann', 'bob', 'carl']);

  // October under version 2: 200 min at 0.10.
  expect(ann!.months.map((m) => [m.period, m.current.overageMinutes, m.current.overageCents, m.current.totalCents, m.current.policyVersion])).toEqual([
    ['2026-08', 100, 500, 1500, 1],
    ['2026-09', 300, 1500, 2500, 1],
    ['2026-10', 200, 2000, 3000, 2],
  ]);
  expect(ann!.months.map((m) => [m.proposed.allowanceMinutes, m.proposed.overageMinutes, m.proposed.totalCents])).toEqual([
    [3000, 0, 1000],
    [3000, 0, 1000],
    [3000, 0, 1000],
  ]);
  expect(ann!.current).toEqual({
    overageMinutes: 600,
    overageCents: 4000,
    totalCents: 7000,
    plans: [{ fromPeriod: '2026-11', plan: { minutes: 500, feeCents: 1500 }, averageOverageMinutes: 200, periods }],
  });
  expect(ann!.proposed).toEqual({ overageMinutes: 0, overageCents: 0, totalCents: 3000, plans: [] });
  expect(ann!.changed).toBe(true);

  // The grant is the allowance now; the proposed 3,000 included minutes are larger. Nothing is charged either way.
  expect(bob!.months.map((m) => [m.period, m.current.allowanceMinutes, m.proposed.allowanceMinutes, m.current.totalCents, m.proposed.totalCents])).toEqual([
    ['2026-08', 2500, 3000, 0, 0],
    ['2026-09', 2500, 3000, 0, 0],
  ]);
  expect(bob!.changed).toBe(false);

  // August prorated: ⌈2,400 × 12 / 31⌉ = 930 min now (70 over, 3.50), ⌈3,000 × 12 / 31⌉ = 1,162 proposed.
  expect(carl!.months.map((m) => [m.current.allowanceMinutes, m.current.overageMinutes, m.current.overageCents, m.current.totalCents])).toEqual([
    [930, 70, 350, 1550],
    [2400, 700, 3500, 6600],
    [2400, 1100, 11000, 14100],
  ]);
  expect(carl!.months.map((m) => [m.proposed.allowanceMinutes, m.proposed.overageMinutes, m.proposed.overageCents, m.proposed.totalCents])).toEqual([
    [1162, 0, 0, 1200],
    [3000, 100, 400, 3500],
    [3000, 500, 2000, 5100],
  ]);
  // Three months over now: the average, ⌈1,870 / 3⌉ = 624, calls for the 1,000-minute plan; proposed, August breaks the streak.
  expect(carl!.current.plans).toEqual([{ fromPeriod: '2026-11', plan: { minutes: 1000, feeCents: 2500 }, averageOverageMinutes: 624, periods }]);
  expect(carl!.proposed.plans).toEqual([]);

  expect(preview.totals).toEqual({
    subscribers: 3,
    changed: 2,
    current: { overageMinutes: 2470, overageCents: 18850, totalCents: 29250, plans: 2 },
    proposed: { overageMinutes: 600, overageCents: 2400, totalCents: 12800, plans: 0 },
  });
  expect(preview.currency).toBe('USD');
});

test('a shorter plan streak proposed gives a plan sooner; a terminated month decides none', () => {
  const shorter = comparePolicies(months, proposedPolicy(v2, { includedMinutes: 3000, overageRateMicros: 40_000, planStreakCycles: 2 }), periods);
  // September and October over (100, 500): ⌈600 / 2⌉ = 300, the 500-minute plan.
  expect(shorter.subscribers[2]!.proposed.plans).toEqual([
    { fromPeriod: '2026-11', plan: { minutes: 500, feeCents: 1500 }, averageOverageMinutes: 300, periods: ['2026-09', '2026-10'] },
  ]);

  const ended = months.map((m) =>
    m.subscriberId === 'ann' && m.facts.period === '2026-10' ? { ...m, facts: { ...m.facts, serviceEndMs: Date.parse('2026-10-31T12:00:00Z') } } : m,
  );
  expect(comparePolicies(ended, proposed, periods).subscribers[0]!.current.plans).toEqual([]);
});

test('--months: a range FIRST..LAST or one month; a bad form, a reversed or too long range names the value', () => {
  expect(parseMonthRange('2026-08..2026-10')).toEqual({ periods });
  expect(parseMonthRange('2026-09')).toEqual({ periods: ['2026-09'] });
  expect(parseMonthRange('2026-11..2027-01')).toEqual({ periods: ['2026-11', '2026-12', '2027-01'] });
  for (const bad of ['2026-8..2026-10', '2026-08-2026-10', '2026-13..2027-01', 'last', '']) {
    expect(parseMonthRange(bad)).toEqual({ problem: `--months ${JSON.stringify(bad)} must be a range of months FIRST..LAST, e.g. 2026-08..2026-10 (or one month, 2026-09)` });
  }
  expect(parseMonthRange('2026-10..2026-08')).toEqual({ problem: '--months 2026-10..2026-08 is reversed: write the earlier month first, 2026-08..2026-10' });
  expect(parseMonthRange('2020-01..2026-10')).toEqual({ problem: '--months 2020-01..2026-10 spans 82 months: preview at most 24 at a time' });
});

test('a month before the first policy version, or not over everywhere, cannot be previewed; one over but not closed neither', () => {
  const at = { nowMs: Date.parse('2026-12-01T05:00:00Z'), firstPolicyDay: '2000-01-01' };
  expect(previewMonthProblem('2026-10', at)).toBeUndefined();
  expect(previewMonthProblem('1999-12', at)).toBe('--months: 1999-12 is before 2000-01, the first month a policy version is in effect (from 2000-01-01): nothing was billed then');
  // November ends last at UTC-12: 12:00 UTC on 1 December.
  expect(previewMonthProblem('2026-11', at)).toBe('--months: 2026-11 is not over yet (it ends everywhere at 2026-12-01T12:00:00.000Z); only closed months can be previewed');
  expect(previewMonthProblem('2026-11', { ...at, nowMs: Date.parse('2026-12-01T12:00:00Z') })).toBeUndefined();
  expect(previewMonthProblem('2027-03', at)).toMatch(/^--months: 2027-03 is not over yet/);
  expect(notClosedProblem('2026-11', { subscribers: 10, open: 0 })).toBeUndefined();
  expect(notClosedProblem('2026-11', { subscribers: 10, open: 3 })).toBe(
    '--months: 2026-11 is not closed yet: 3 of 10 subscribers billable for it have no invoice; close it first (`billing close --period 2026-11 --wait`)',
  );
});

test("the CSV has one row per subscriber and month, amounts in the currency's units, the plan decided after the month", () => {
  const lines = previewCsv(comparePolicies(months, proposed, periods))
    .trimEnd()
    .split('\n');
  expect(lines[0]).toBe(
    'subscriber,period,current_policy_version,current_allowance_minutes,current_used_seconds,current_overage_minutes,current_overage,current_total,' +
      'proposed_allowance_minutes,proposed_used_seconds,proposed_overage_minutes,proposed_overage,proposed_total,difference,currency,current_plan_from_next_month,proposed_plan_from_next_month',
  );
  expect(lines).toHaveLength(1 + 8);
  expect(lines[1]).toBe('ann,2026-08,1,2400,150000,100,5.00,15.00,3000,150000,0,0.00,10.00,-5.00,USD,,');
  expect(lines[3]).toBe('ann,2026-10,2,2400,156000,200,20.00,30.00,3000,156000,0,0.00,10.00,-20.00,USD,500 min for 15.00 USD,');
  expect(lines[8]).toBe('carl,2026-10,2,2400,210000,1100,110.00,141.00,3000,210000,500,20.00,51.00,-90.00,USD,1000 min for 25.00 USD,');
});
