import fc from 'fast-check';
import { choosePlan, EMPTY_STREAK, extendStreak, planDecision, streakComplete } from '../../billing/minute-plans';
import { DEFAULT_POLICY_RULES } from '../../billing/policy';
import { lateAdjustmentLine, overageCharge } from '../../billing/rating';

const catalog = DEFAULT_POLICY_RULES.planCatalog; // 500 for 15.00, 1000 for 25.00, 2500 for 50.00

describe('choosePlan', () => {
  test.each([[1, 500], [500, 500], [501, 1000], [1000, 1000], [1001, 2500], [2500, 2500], [9999, 2500]])('%i minutes needed → the %i-minute plan', (needed, planMinutes) => {
    expect(choosePlan(needed, catalog).minutes).toBe(planMinutes);
  });

  test('the chosen plan covers the need whenever any plan does, and no smaller plan would', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), (needed) => {
      const plan = choosePlan(needed, catalog);
      if (needed <= 2500) expect(plan.minutes).toBeGreaterThanOrEqual(needed);
      for (const smaller of catalog.filter((p) => p.minutes < plan.minutes)) expect(smaller.minutes).toBeLessThan(needed);
    }));
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

describe('late adjustments', () => {
  test('charge exactly the difference in overage the late calls make', () => {
    const billed = overageCharge(147_000, 144_000, 50_000); // 50 min
    const now = overageCharge(148_800, 144_000, 50_000); // 80 min
    expect(lateAdjustmentLine('2026-09', now, billed, 50_000)).toEqual({
      kind: 'adjustment', description: 'Late calls for 2026-09: +30 min overage', quantity: 30, unitPriceMicros: 50_000, amountCents: 150,
    });
  });

  test('late calls that stay within the allowance change nothing', () => {
    const billed = overageCharge(100_000, 144_000, 50_000);
    expect(lateAdjustmentLine('2026-09', overageCharge(140_000, 144_000, 50_000), billed, 50_000)).toBeUndefined();
  });
});
