import fc from 'fast-check';
import { lineAmountCents } from '../../billing/money';
import { DEFAULT_POLICY_RULES, type PolicyRules } from '../../billing/policy';
import { overageMinutes, rateCycle, roundUsage, type CycleTerms, type CycleUsage } from '../../billing/rating';

const rulesArb: fc.Arbitrary<PolicyRules> = fc
  .record({
    includedMinutes: fc.integer({ min: 0, max: 10_000 }),
    overageRateMicros: fc.integer({ min: 0, max: 10_000_000 }),
    roundingIncrementSeconds: fc.constantFrom(1, 6, 30, 60),
  })
  .map((r) => ({ ...DEFAULT_POLICY_RULES, ...r }));

const planArb = fc.option(fc.record({ minutes: fc.integer({ min: 0, max: 5000 }), feeCents: fc.integer({ min: 0, max: 100_000 }) }), { nil: undefined });

const termsArb: fc.Arbitrary<CycleTerms> = fc
  .record({
    period: fc.constantFrom('2025-12', '2026-01', '2026-10'),
    rules: rulesArb,
    monthlyFeeCents: fc.integer({ min: 0, max: 100_000 }),
    limitMinutes: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
    plan: planArb,
  })
  .map((t) => {
    // Leave the optional fields absent rather than present-and-undefined, as callers do.
    const out: CycleTerms = { period: t.period, rules: t.rules, monthlyFeeCents: t.monthlyFeeCents };
    if (t.limitMinutes !== undefined) out.limitMinutes = t.limitMinutes;
    if (t.plan !== undefined) out.plan = t.plan;
    return out;
  });

const usageArb: fc.Arbitrary<CycleUsage> = fc.record({
  calls: fc.integer({ min: 0, max: 100_000 }),
  billableSeconds: fc.integer({ min: 0, max: 10_000_000 }),
});

const overageCents = (lines: { kind: string; amountCents: number }[]): number => lines.filter((l) => l.kind === 'overage').reduce((sum, l) => sum + l.amountCents, 0);

describe('rating properties', () => {
  it('the overage charge is never negative', () => {
    fc.assert(
      fc.property(usageArb, termsArb, (usage, terms) => {
        const rating = rateCycle(usage, terms);
        expect(rating.overageMinutes).toBeGreaterThanOrEqual(0);
        expect(overageCents(rating.lines)).toBeGreaterThanOrEqual(0);
        for (const line of rating.lines) {
          if (line.kind === 'overage') {
            expect(line.quantity).toBeGreaterThan(0);
            expect(line.amountCents).toBeGreaterThanOrEqual(0);
          }
        }
      }),
    );
  });

  it('there is no overage whenever used seconds ≤ allowance', () => {
    fc.assert(
      fc.property(termsArb, fc.nat(), fc.integer({ min: 0, max: 100_000 }), (terms, seed, calls) => {
        const allowance = rateCycle({ calls: 0, billableSeconds: 0 }, terms).allowanceSeconds;
        const used = allowance === 0 ? 0 : seed % (allowance + 1);
        const rating = rateCycle({ calls, billableSeconds: used }, terms);
        expect(rating.overageMinutes).toBe(0);
        expect(rating.lines.some((l) => l.kind === 'overage')).toBe(false);
        expect(rating.totalCents).toBe(terms.monthlyFeeCents + (terms.plan?.feeCents ?? 0));
      }),
    );
  });

  it('overage minutes are exactly the started minutes past the allowance', () => {
    fc.assert(
      fc.property(usageArb, termsArb, (usage, terms) => {
        const rating = rateCycle(usage, terms);
        const excess = usage.billableSeconds - rating.allowanceSeconds;
        if (excess <= 0) {
          expect(rating.overageMinutes).toBe(0);
        } else {
          expect(rating.overageMinutes * 60).toBeGreaterThanOrEqual(excess);
          expect((rating.overageMinutes - 1) * 60).toBeLessThan(excess);
          const line = rating.lines.find((l) => l.kind === 'overage');
          expect(line).toBeDefined();
          expect(line?.quantity).toBe(rating.overageMinutes);
          expect(line?.unitPriceMicros).toBe(terms.rules.overageRateMicros);
          expect(line?.amountCents).toBe(lineAmountCents(rating.overageMinutes, terms.rules.overageRateMicros));
        }
      }),
    );
  });

  it('overage minutes and charge are monotonic in used seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), termsArb, (a, b, terms) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const low = rateCycle({ calls: 1, billableSeconds: lo }, terms);
        const high = rateCycle({ calls: 1, billableSeconds: hi }, terms);
        expect(low.overageMinutes).toBeLessThanOrEqual(high.overageMinutes);
        expect(overageCents(low.lines)).toBeLessThanOrEqual(overageCents(high.lines));
        expect(low.totalCents).toBeLessThanOrEqual(high.totalCents);
        expect(overageMinutes(lo, low.allowanceSeconds)).toBeLessThanOrEqual(overageMinutes(hi, low.allowanceSeconds));
      }),
    );
  });

  it('more allowance never means more overage', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (used, a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        expect(overageMinutes(used, large)).toBeLessThanOrEqual(overageMinutes(used, small));
      }),
    );
  });

  it('rating the same input twice gives deep-equal results, and does not mutate the input', () => {
    fc.assert(
      fc.property(usageArb, termsArb, (usage, terms) => {
        const usageCopy = structuredClone(usage);
        const termsCopy = structuredClone(terms);
        const first = rateCycle(usage, terms);
        const second = rateCycle(usage, terms);
        expect(second).toStrictEqual(first);
        expect(rateCycle(usageCopy, termsCopy)).toStrictEqual(first);
        // toEqual: fast-check builds records with a null prototype, structuredClone does not.
        expect(usage).toEqual(usageCopy);
        expect(terms).toEqual(termsCopy);
      }),
    );
  });

  it('totalCents equals the sum of the line amounts, and the fee and plan lines are as given', () => {
    fc.assert(
      fc.property(usageArb, termsArb, (usage, terms) => {
        const rating = rateCycle(usage, terms);
        expect(rating.totalCents).toBe(rating.lines.reduce((sum, l) => sum + l.amountCents, 0));
        expect(Number.isSafeInteger(rating.totalCents)).toBe(true);
        expect(rating.lines[0]).toMatchObject({ kind: 'monthly-fee', amountCents: terms.monthlyFeeCents });
        const planLines = rating.lines.filter((l) => l.kind === 'minute-plan');
        expect(planLines).toHaveLength(terms.plan ? 1 : 0);
        if (terms.plan) expect(planLines[0].amountCents).toBe(terms.plan.feeCents);
        for (const line of rating.lines) {
          expect(Number.isSafeInteger(line.amountCents)).toBe(true);
          expect(line.amountCents).toBe(lineAmountCents(line.quantity, line.unitPriceMicros));
        }
      }),
    );
  });

  it('roundUsage: billable seconds are a multiple of the increment, at least the raw seconds, under raw + one increment a call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ seconds: fc.integer({ min: 0, max: 20_000 }), calls: fc.integer({ min: 0, max: 1000 }) }), {
          maxLength: 50,
        }),
        fc.constantFrom(1, 6, 30, 60),
        (durations, increment) => {
          const { calls, billableSeconds } = roundUsage(durations, increment);
          const raw = durations.reduce((sum, d) => sum + d.seconds * d.calls, 0);
          const nonZeroCalls = durations.reduce((sum, d) => sum + (d.seconds > 0 ? d.calls : 0), 0);
          expect(calls).toBe(durations.reduce((sum, d) => sum + d.calls, 0));
          expect(billableSeconds % increment).toBe(0);
          expect(billableSeconds).toBeGreaterThanOrEqual(raw);
          expect(billableSeconds).toBeLessThanOrEqual(raw + nonZeroCalls * (increment - 1));
          if (increment === 1) expect(billableSeconds).toBe(raw);
        },
      ),
    );
  });
});
