import { DEFAULT_POLICY_RULES, INITIAL_POLICY, type PolicyRules } from '../../billing/policy';
import { allowanceSeconds, overageMinutes, rateCycle, roundUpToIncrement, roundUsage, SECONDS_PER_MINUTE, type CycleTerms } from '../../billing/rating';

const FEE = 2999; // 29.99 a month
const terms = (extra: Partial<CycleTerms> = {}): CycleTerms => ({
  period: '2026-10',
  rules: DEFAULT_POLICY_RULES,
  monthlyFeeCents: FEE,
  ...extra,
});
const usage = (billableSeconds: number, calls = 1) => ({ calls, billableSeconds });

describe('policy defaults', () => {
  it('match the published Fair Usage Policy and DESIGN', () => {
    expect(DEFAULT_POLICY_RULES.includedMinutes).toBe(2400);
    expect(DEFAULT_POLICY_RULES.overageRateMicros).toBe(50_000);
    expect(DEFAULT_POLICY_RULES.roundingIncrementSeconds).toBe(1);
    expect(DEFAULT_POLICY_RULES.planStreakCycles).toBe(3);
    expect(DEFAULT_POLICY_RULES.planCatalog).toEqual([
      { minutes: 500, feeCents: 1500 },
      { minutes: 1000, feeCents: 2500 },
      { minutes: 2500, feeCents: 5000 },
    ]);
    expect(DEFAULT_POLICY_RULES.alertThresholdsPercent).toEqual([80, 100]);
    expect(DEFAULT_POLICY_RULES.noticeDays).toBe(30);
    expect(DEFAULT_POLICY_RULES.currency).toBe('USD');
    expect(INITIAL_POLICY).toMatchObject({ version: 1, ...DEFAULT_POLICY_RULES });
  });
});

describe('rateCycle: acceptance examples under the default policy', () => {
  it('2,460 min 30 s (147630 s) → 61 overage minutes, an overage line of 3.05', () => {
    const rating = rateCycle(usage(147_630, 812), terms());
    expect(rating.allowanceSeconds).toBe(144_000);
    expect(rating.usedSeconds).toBe(147_630);
    expect(rating.calls).toBe(812);
    expect(rating.period).toBe('2026-10');
    expect(rating.overageMinutes).toBe(61);
    expect(rating.lines).toEqual([
      { kind: 'monthly-fee', description: 'Monthly fee, 2026-10', quantity: 1, unitPriceMicros: 29_990_000, amountCents: FEE },
      {
        kind: 'overage',
        description: 'Overage: 61 min past 2400 min',
        quantity: 61,
        unitPriceMicros: 50_000,
        amountCents: 305,
      },
    ]);
    expect(rating.totalCents).toBe(FEE + 305);
  });

  it('exactly 2400 min (144000 s) → no overage line, total = monthly fee', () => {
    const rating = rateCycle(usage(144_000), terms());
    expect(rating.overageMinutes).toBe(0);
    expect(rating.lines).toHaveLength(1);
    expect(rating.lines[0].kind).toBe('monthly-fee');
    expect(rating.lines.some((l) => l.kind === 'overage')).toBe(false);
    expect(rating.totalCents).toBe(FEE);
  });

  it('144001 s → 1 overage minute (each started minute counts), 0.05', () => {
    const rating = rateCycle(usage(144_001), terms());
    expect(rating.overageMinutes).toBe(1);
    expect(rating.lines[1]).toMatchObject({ kind: 'overage', quantity: 1, amountCents: 5 });
    expect(rating.totalCents).toBe(FEE + 5);
  });

  it.each([
    [0, 0, 0],
    [143_999, 0, 0],
    [144_060, 1, 5],
    [144_061, 2, 10],
    [144_000 + 120 * 60, 120, 600],
  ])('%d s → %d overage minutes, %d cents', (seconds, minutes, cents) => {
    const rating = rateCycle(usage(seconds), terms());
    expect(rating.overageMinutes).toBe(minutes);
    const overage = rating.lines.find((l) => l.kind === 'overage');
    expect(overage?.amountCents ?? 0).toBe(cents);
    expect(rating.totalCents).toBe(FEE + cents);
  });

  it('a zero monthly fee still shows the fee line', () => {
    const rating = rateCycle(usage(0, 0), terms({ monthlyFeeCents: 0 }));
    expect(rating.lines).toEqual([{ kind: 'monthly-fee', description: 'Monthly fee, 2026-10', quantity: 1, unitPriceMicros: 0, amountCents: 0 }]);
    expect(rating.totalCents).toBe(0);
  });
});

describe('rateCycle: allowance', () => {
  it('an approved limit replaces the included minutes (raising it)', () => {
    const rating = rateCycle(usage(147_630), terms({ limitMinutes: 3000 }));
    expect(rating.allowanceSeconds).toBe(180_000);
    expect(rating.overageMinutes).toBe(0);
    expect(rating.totalCents).toBe(FEE);
  });

  it('usage past a raised limit is charged from that limit', () => {
    // 3000 min limit; 3010 min 1 s used → 11 overage minutes → 0.55.
    const rating = rateCycle(usage(180_601), terms({ limitMinutes: 3000 }));
    expect(rating.overageMinutes).toBe(11);
    expect(rating.lines[1]).toMatchObject({ description: 'Overage: 11 min past 3000 min', amountCents: 55 });
  });

  it('a minute plan adds its minutes to the allowance and its fee as a line', () => {
    const plan = { minutes: 500, feeCents: 1500 };
    const rating = rateCycle(usage(147_630), terms({ plan }));
    expect(rating.allowanceSeconds).toBe((2400 + 500) * 60);
    expect(rating.overageMinutes).toBe(0);
    expect(rating.lines).toEqual([
      { kind: 'monthly-fee', description: 'Monthly fee, 2026-10', quantity: 1, unitPriceMicros: 29_990_000, amountCents: FEE },
      {
        kind: 'minute-plan',
        description: 'Minute plan, 500 minutes',
        quantity: 1,
        unitPriceMicros: 15_000_000,
        amountCents: 1500,
      },
    ]);
    expect(rating.totalCents).toBe(FEE + 1500);
  });

  it('plan fee and overage both appear when usage exceeds limit + plan', () => {
    const plan = { minutes: 1000, feeCents: 2500 };
    // Allowance 3000 + 1000 = 4000 min = 240000 s; 240000 + 90 s → 2 overage minutes.
    const rating = rateCycle(usage(240_090), terms({ limitMinutes: 3000, plan }));
    expect(rating.allowanceSeconds).toBe(240_000);
    expect(rating.lines.map((l) => [l.kind, l.amountCents])).toEqual([
      ['monthly-fee', FEE],
      ['minute-plan', 2500],
      ['overage', 10],
    ]);
    expect(rating.lines[2].description).toBe('Overage: 2 min past 4000 min');
    expect(rating.totalCents).toBe(FEE + 2500 + 10);
  });

  it('allowanceSeconds: included minutes, or the limit, plus the plan', () => {
    expect(allowanceSeconds({ rules: DEFAULT_POLICY_RULES })).toBe(144_000);
    expect(allowanceSeconds({ rules: DEFAULT_POLICY_RULES, limitMinutes: 5000 })).toBe(300_000);
    expect(allowanceSeconds({ rules: DEFAULT_POLICY_RULES, plan: { minutes: 2500, feeCents: 5000 } })).toBe(294_000);
    expect(allowanceSeconds({ rules: DEFAULT_POLICY_RULES, limitMinutes: 5000, plan: { minutes: 500, feeCents: 1500 } })).toBe(330_000);
  });

  it('uses the cycle’s policy version: its included minutes and overage rate', () => {
    const rules: PolicyRules = { ...DEFAULT_POLICY_RULES, includedMinutes: 1000, overageRateMicros: 12_500 };
    // 1000 min allowance; 1003 min used → 3 min × 0.0125 = 3.75 cents → 4 (half-up).
    const rating = rateCycle(usage(60_180), terms({ rules }));
    expect(rating.overageMinutes).toBe(3);
    expect(rating.lines[1]).toMatchObject({ quantity: 3, unitPriceMicros: 12_500, amountCents: 4 });
  });

  it('rounds an overage of exactly half a cent up', () => {
    const rules: PolicyRules = { ...DEFAULT_POLICY_RULES, overageRateMicros: 5_000 }; // 0.005 a minute
    const rating = rateCycle(usage(144_060), terms({ rules }));
    expect(rating.lines[1]).toMatchObject({ quantity: 1, amountCents: 1 });
  });
});

describe('overageMinutes', () => {
  it.each([
    [0, 144_000, 0],
    [144_000, 144_000, 0],
    [144_001, 144_000, 1],
    [147_630, 144_000, 61],
    [100, 0, 2],
    [60, 0, 1],
  ])('used %d s with allowance %d s → %d', (used, allowance, minutes) => {
    expect(overageMinutes(used, allowance)).toBe(minutes);
  });
});

describe('roundUsage', () => {
  it('rounds each call up to the increment, then sums: 3 calls of 61 s → 360 s at 60 s', () => {
    expect(roundUsage([{ seconds: 61, calls: 3 }], 60)).toEqual({ calls: 3, billableSeconds: 360 });
  });

  it('leaves seconds as they are with the default 1-second increment', () => {
    expect(roundUsage([{ seconds: 61, calls: 3 }], 1)).toEqual({ calls: 3, billableSeconds: 183 });
  });

  it('rounds per call, not on the total', () => {
    // Two calls of 30 s: 120 s billable at a 60 s increment, not 60 s.
    expect(roundUsage([{ seconds: 30, calls: 2 }], 60)).toEqual({ calls: 2, billableSeconds: 120 });
    expect(
      roundUsage(
        [
          { seconds: 1, calls: 1 },
          { seconds: 60, calls: 2 },
          { seconds: 121, calls: 1 },
        ],
        60,
      ),
    ).toEqual({ calls: 4, billableSeconds: 60 + 120 + 180 });
    expect(roundUsage([{ seconds: 7, calls: 10 }], 6)).toEqual({ calls: 10, billableSeconds: 120 });
  });

  it('counts zero-second calls without billing them, and handles no usage', () => {
    expect(roundUsage([{ seconds: 0, calls: 5 }], 60)).toEqual({ calls: 5, billableSeconds: 0 });
    expect(roundUsage([], 60)).toEqual({ calls: 0, billableSeconds: 0 });
  });

  it.each([0, -60, 1.5, Number.NaN])('rejects increment %p', (increment) => {
    expect(() => roundUsage([{ seconds: 61, calls: 1 }], increment)).toThrow(RangeError);
  });

  it('roundUpToIncrement', () => {
    expect(roundUpToIncrement(0, 60)).toBe(0);
    expect(roundUpToIncrement(1, 60)).toBe(60);
    expect(roundUpToIncrement(60, 60)).toBe(60);
    expect(roundUpToIncrement(61, 60)).toBe(120);
    expect(roundUpToIncrement(61, 1)).toBe(61);
  });

  it('feeds rateCycle: rounding to 60 s can turn usage under the allowance into overage', () => {
    // 2400 calls of 59 s = 141600 s raw, under 144000; at a 60 s increment, exactly 144000 → no overage.
    const at60 = roundUsage([{ seconds: 59, calls: 2400 }], 60);
    expect(rateCycle(at60, terms()).overageMinutes).toBe(0);
    // 2401 calls of 1 s → 2401 min at a 60 s increment → 1 overage minute.
    const rules: PolicyRules = { ...DEFAULT_POLICY_RULES, roundingIncrementSeconds: 60 };
    const rounded = roundUsage([{ seconds: 1, calls: 2401 }], rules.roundingIncrementSeconds);
    const rating = rateCycle(rounded, terms({ rules }));
    expect(rating.usedSeconds).toBe(2401 * SECONDS_PER_MINUTE);
    expect(rating.calls).toBe(2401);
    expect(rating.overageMinutes).toBe(1);
    expect(rating.totalCents).toBe(FEE + 5);
  });
});
