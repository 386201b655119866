import fc from 'fast-check';
import {
  choosePlan,
  coveringPlan,
  EMPTY_FIT_STREAK,
  EMPTY_STREAK,
  extendStreak,
  planDecision,
  reviewPlan,
  streakComplete,
  type PlanFitStreak,
  type PlanReduction,
} from '../../billing/minute-plans';
import type { MinutePlan } from '../../billing/policy';
import { DEFAULT_POLICY_RULES } from '../../billing/policy';
import { lateAdjustmentLine, overageCharge } from '../../billing/rating';

const catalog = DEFAULT_POLICY_RULES.planCatalog; // 500 for 15.00, 1000 for 25.00, 2500 for 50.00

describe('choosePlan', () => {
  test.each([
    [1, 500],
    [500, 500],
    [501, 1000],
    [1000, 1000],
    [1001, 2500],
    [2500, 2500],
    [9999, 2500],
  ])('%i minutes needed → the %i-minute plan', (needed, planMinutes) => {
    expect(choosePlan(needed, catalog).minutes).toBe(planMinutes);
  });

  test('the chosen plan covers the need whenever any plan does, and no smaller plan would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (needed) => {
        const plan = choosePlan(needed, catalog);
        if (needed <= 2500) expect(plan.minutes).toBeGreaterThanOrEqual(needed);
        for (const smaller of catalog.filter((p) => p.minutes < plan.minutes)) expect(smaller.minutes).toBeLessThan(needed);
      }),
    );
  });
});

describe('the overage streak', () => {
  const rules = { planStreakCycles: 3, planCatalog: catalog };
  const streakOf = (overages: number[]) => overages.reduce((s, m, i) => extendStreak(s, `2026-0${i + 1}`, m), EMPTY_STREAK);

  test('a month without overage breaks it', () => {
    expect(streakOf([10, 20, 0])).toEqual(EMPTY_STREAK);
    expect(streakOf([10, 0, 20]).periods).toEqual(['2026-03']);
  });

  test('nothing is decided before the configured number of months', () => {
    expect(planDecision(streakOf([400, 400]), rules, null)).toBeUndefined();
    expect(streakComplete(streakOf([400, 400]), rules)).toBe(false);
  });

  test('after three months over, the plan covering the average (rounded up) is chosen', () => {
    expect(planDecision(streakOf([100, 300, 200]), rules, null)).toMatchObject({ plan: { minutes: 500, feeCents: 1500 }, averageOverageMinutes: 200 });
    expect(planDecision(streakOf([500, 500, 501]), rules, null)).toMatchObject({ plan: { minutes: 1000 }, averageOverageMinutes: 501 });
  });

  test('with a plan, the need counts its minutes; the largest plan cannot grow', () => {
    expect(planDecision(streakOf([700, 800, 900]), rules, { minutes: 500, feeCents: 1500 })).toMatchObject({ plan: { minutes: 2500 } });
    expect(planDecision(streakOf([700, 800, 900]), rules, { minutes: 2500, feeCents: 5000 })).toBeUndefined();
  });
});

describe('a plan no longer needed', () => {
  const rules = { planStreakCycles: 3, planCatalog: catalog };
  const [small, medium, large] = catalog as [MinutePlan, MinutePlan, MinutePlan];
  /** Reviews months in turn with the same plan; the reductions decided on the way. */
  const review = (overagesWithoutPlan: number[], current: MinutePlan | null) => {
    let streak: PlanFitStreak = EMPTY_FIT_STREAK;
    const reductions: PlanReduction[] = [];
    overagesWithoutPlan.forEach((m, i) => {
      const step = reviewPlan(streak, `2027-${String(i + 1).padStart(2, '0')}`, m, current, rules);
      streak = step.streak;
      if (step.reduction) reductions.push(step.reduction);
    });
    return { streak, reductions };
  };

  test('coveringPlan: none for nothing, the smallest covering, undefined past the largest', () => {
    expect(coveringPlan(0, catalog)).toBeNull();
    expect(coveringPlan(1, catalog)).toEqual(small);
    expect(coveringPlan(501, catalog)).toEqual(medium);
    expect(coveringPlan(2501, catalog)).toBeUndefined();
  });

  test('three months that fit without the plan remove it; two do not', () => {
    expect(review([0, 0], small).reductions).toEqual([]);
    expect(review([0, 0], small).streak.periods).toEqual(['2027-01', '2027-02']);
    expect(review([0, 0, 0], small)).toEqual({
      streak: EMPTY_FIT_STREAK,
      reductions: [
        { plan: null, previousPlan: small, largestOverageWithoutPlanMinutes: 0, streak: { periods: ['2027-01', '2027-02', '2027-03'], overageMinutesWithoutPlan: [0, 0, 0] } },
      ],
    });
  });

  test('steps down to the smallest plan that covers every month of the streak, not their average', () => {
    // Without the plan 300, 600 and 200 min over: the 1,000-minute plan covers all three (the average, 367, would fit 500).
    expect(review([300, 600, 200], large).reductions.map((r) => [r.plan, r.largestOverageWithoutPlanMinutes])).toEqual([[medium, 600]]);
    expect(review([300, 0, 200], large).reductions.map((r) => r.plan)).toEqual([small]);
  });

  test('a month that needed the plan as it is breaks the streak; so does a month without a plan', () => {
    expect(review([0, 0, 400, 0, 0], small).reductions).toEqual([]);
    expect(review([0, 0, 400, 0, 0], small).streak.periods).toEqual(['2027-04', '2027-05']);
    expect(review([0, 600, 0], medium).reductions).toEqual([]);
    expect(review([0, 0, 0], null)).toEqual({ streak: EMPTY_FIT_STREAK, reductions: [] });
  });

  test('after a reduction the streak restarts', () => {
    expect(review([0, 0, 0, 0, 0, 0], small).reductions).toHaveLength(2);
  });

  test('property: a reduction is always to a smaller plan or none, covers every month of its streak, and no smaller plan would', () => {
    fc.assert(
      fc.property(fc.constantFrom(small, medium, large), fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 12 }), (current, overages) => {
        for (const r of review(overages, current).reductions) {
          expect(r.streak.periods).toHaveLength(rules.planStreakCycles);
          const planMinutes = r.plan?.minutes ?? 0;
          expect(planMinutes).toBeLessThan(current.minutes);
          for (const m of r.streak.overageMinutesWithoutPlan) expect(planMinutes).toBeGreaterThanOrEqual(m);
          for (const smaller of catalog.filter((p) => p.minutes < planMinutes)) expect(Math.max(...r.streak.overageMinutesWithoutPlan)).toBeGreaterThan(smaller.minutes);
        }
      }),
    );
  });
});

describe('late adjustments', () => {
  test('charge exactly the difference in overage the late calls make', () => {
    const billed = overageCharge(147_000, 144_000, 50_000); // 50 min
    const now = overageCharge(148_800, 144_000, 50_000); // 80 min
    expect(lateAdjustmentLine('2026-09', now, billed, 50_000)).toEqual({
      kind: 'adjustment',
      description: 'Late calls for 2026-09: +30 min overage',
      quantity: 30,
      unitPriceMicros: 50_000,
      amountCents: 150,
    });
  });

  test('late calls that stay within the allowance change nothing', () => {
    const billed = overageCharge(100_000, 144_000, 50_000);
    expect(lateAdjustmentLine('2026-09', overageCharge(140_000, 144_000, 50_000), billed, 50_000)).toBeUndefined();
  });
});
