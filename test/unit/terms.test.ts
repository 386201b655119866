/**
 * The rules DESIGN changed for issue 12, as the pure core holds them: the allowance is the larger
 * of the included minutes and a grant, partial months are prorated, split calls are rounded once,
 * and an invoice carries exactly the difference late calls make.
 */
import fc from 'fast-check';
import { limitForPeriod } from '../../billing/limits';
import { daysInPeriod, partialMonth, splitAtMonthBoundaries } from '../../billing/periods';
import { DEFAULT_POLICY_RULES, INITIAL_POLICY } from '../../billing/policy';
import { allowanceSeconds, monthlyLimitMinutes, proratedCents, rateCycle, roundUsage, roundedShareSeconds, roundUpToIncrement } from '../../billing/rating';
import { priceInvoice, termsForPeriod } from '../../billing/terms';

const rules = DEFAULT_POLICY_RULES;

describe('allowance: the larger of the included minutes and a grant, plus the plan', () => {
  it('a grant below the included minutes of a later version never lowers the allowance', () => {
    expect(allowanceSeconds({ rules: { ...rules, includedMinutes: 3000 }, limitMinutes: 2500 })).toBe(3000 * 60);
    expect(allowanceSeconds({ rules: { ...rules, includedMinutes: 3000 }, limitMinutes: 2500, plan: { minutes: 500, feeCents: 1500 } })).toBe(3500 * 60);
  });

  it('a grant above them raises it', () => {
    expect(allowanceSeconds({ rules, limitMinutes: 4000 })).toBe(4000 * 60);
  });

  it('property: never below the included minutes plus the plan, whatever the grant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.option(fc.integer({ min: 1, max: 100_000 })), fc.integer({ min: 0, max: 5000 }), (included, limit, plan) => {
        const a = allowanceSeconds({ rules: { ...rules, includedMinutes: included }, limitMinutes: limit ?? undefined, plan: plan ? { minutes: plan, feeCents: 0 } : undefined });
        expect(a).toBeGreaterThanOrEqual((included + plan) * 60);
        if (limit !== null) expect(a).toBeGreaterThanOrEqual((limit + plan) * 60);
      }),
    );
  });
});

describe('partial months', () => {
  it('a start on the 20th of a 31-day month is 12 of 31 days; on the 1st, a whole month', () => {
    expect(partialMonth('2027-03', '2027-03-20')).toEqual({ days: 12, ofDays: 31 });
    expect(partialMonth('2027-03', '2027-03-01')).toBeUndefined();
    expect(partialMonth('2027-04', '2027-03-20')).toBeUndefined();
  });

  it('a termination on the 12th is 12 days, its own day included; a start and an end in one month count both ends', () => {
    expect(partialMonth('2027-10', '2020-01-01', '2027-10-12')).toEqual({ days: 12, ofDays: 31 });
    expect(partialMonth('2027-02', '2027-02-10', '2027-02-19')).toEqual({ days: 10, ofDays: 28 });
    expect(partialMonth('2028-02', '2020-01-01', '2028-02-29')).toBeUndefined();
  });

  it("fee half-up to the cent, allowance rounded up in the subscriber's favour, and the line says so", () => {
    expect(proratedCents(3100, { days: 12, ofDays: 31 })).toBe(1200);
    expect(proratedCents(1000, { days: 1, ofDays: 30 })).toBe(33); // 33.33 → 33
    expect(proratedCents(1000, { days: 1, ofDays: 16 })).toBe(63); // 62.5 → 63
    const rating = rateCycle({ calls: 10, billableSeconds: 1000 * 60 }, { period: '2027-03', rules, monthlyFeeCents: 3100, proration: { days: 12, ofDays: 31 } });
    expect(rating.allowanceSeconds).toBe(930 * 60); // ⌈2400 × 12 / 31⌉ = ⌈929.03⌉
    expect(rating.lines).toEqual([
      { kind: 'monthly-fee', description: 'Monthly fee, 2027-03 (12 of 31 days)', quantity: 1, unitPriceMicros: 12_000_000, amountCents: 1200 },
      { kind: 'overage', description: 'Overage: 70 min past 930 min', quantity: 70, unitPriceMicros: 50_000, amountCents: 350 },
    ]);
  });

  it('the granted limit and the plan are prorated with the included minutes', () => {
    expect(allowanceSeconds({ rules, limitMinutes: 3100, plan: { minutes: 500, feeCents: 1500 }, proration: { days: 10, ofDays: 31 } })).toBe(1162 * 60); // ⌈3600 × 10 / 31⌉
  });

  it('property: a prorated month never charges more nor allows less per day than a whole one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 10_000 }), (days, fee, included) => {
        const proration = { days, ofDays: 28 };
        expect(proratedCents(fee, proration)).toBeLessThanOrEqual(fee);
        expect(allowanceSeconds({ rules: { ...rules, includedMinutes: included }, proration }) * 28).toBeGreaterThanOrEqual(included * 60 * days);
      }),
    );
  });

  it('termsForPeriod puts the policy, grant, plan and partial month together', () => {
    const terms = termsForPeriod({
      period: '2027-10',
      timezone: 'Europe/Berlin',
      monthlyFeeCents: 2000,
      serviceStart: '2026-05-01',
      policy: INITIAL_POLICY,
      plan: null,
      grants: [{ requestId: 'LR-1', minutes: 3000, fromPeriod: '2027-09', untilPeriod: null }],
      // 12 October, 23:30 in Berlin is 21:30 UTC: the 12th there.
      serviceEndMs: Date.parse('2027-10-12T21:30:00Z'),
    });
    expect(terms).toMatchObject({ limitMinutes: 3000, proration: { days: 12, ofDays: 31 } });
    expect(limitForPeriod([], '2027-10')).toBeUndefined();
  });
});

describe('a call split at a month boundary is rounded once', () => {
  it('a 60 s call split 30/30 with a 60 s increment bills 60 s, not 120 s', () => {
    const shares = [
      { seconds: 30, calls: 1, callSeconds: 60, finalSegment: false },
      { seconds: 30, calls: 1, callSeconds: 60, finalSegment: true },
    ];
    expect(shares.map((s) => roundedShareSeconds(s, 60))).toEqual([30, 30]);
    expect(roundUsage([shares[0]!], 60).billableSeconds + roundUsage([shares[1]!], 60).billableSeconds).toBe(60);
  });

  it('the rounding goes to the last share: 61 s split 30/31 bills 30 + 90', () => {
    expect(roundedShareSeconds({ seconds: 30, callSeconds: 61, finalSegment: false }, 60)).toBe(30);
    expect(roundedShareSeconds({ seconds: 31, callSeconds: 61, finalSegment: true }, 60)).toBe(90);
  });

  it('property: the shares of a split call add up to the call rounded once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 172_800 }), fc.integer({ min: 1, max: 3600 }), (offsetSeconds, seconds, increment) => {
        const startMs = Date.parse('2027-01-31T00:00:00Z') + offsetSeconds * 1000 - 100_000_000;
        const segments = splitAtMonthBoundaries(startMs, seconds, 'UTC');
        const billed = segments.reduce(
          (sum, s, i) => sum + roundedShareSeconds({ seconds: s.seconds, callSeconds: segments.length > 1 ? seconds : null, finalSegment: i === segments.length - 1 }, increment),
          0,
        );
        expect(billed).toBe(roundUpToIncrement(seconds, increment));
      }),
    );
  });
});

describe('priceInvoice', () => {
  const terms = { period: '2027-11', rules, monthlyFeeCents: 1000 };
  it('late calls of an earlier month: exactly the difference they make, on this invoice', () => {
    const priced = priceInvoice(
      terms,
      [],
      [
        {
          period: '2027-10',
          roundingIncrementSeconds: 1,
          allowanceSeconds: 2400 * 60,
          overageRateMicros: 50_000,
          billed: { minutes: 100, cents: 500 },
          durations: [{ seconds: 2560 * 60, calls: 1 }],
        },
      ],
    );
    expect(priced.rating.lines.map((l) => [l.description, l.amountCents])).toEqual([
      ['Monthly fee, 2027-11', 1000],
      ['Late calls for 2027-10: +60 min overage', 300],
    ]);
    expect(priced.adjustments).toEqual([{ period: '2027-10', overageMinutes: 60, amountCents: 300 }]);
  });

  it('a final adjustment invoice carries the adjustments alone', () => {
    const priced = priceInvoice(
      terms,
      [],
      [
        {
          period: '2027-10',
          roundingIncrementSeconds: 1,
          allowanceSeconds: 2400 * 60,
          overageRateMicros: 50_000,
          billed: { minutes: 0, cents: 0 },
          durations: [{ seconds: 2430 * 60, calls: 1 }],
        },
      ],
      { finalAdjustmentOnly: true },
    );
    expect(priced.rating.lines.map((l) => l.kind)).toEqual(['adjustment']);
    expect(priced.rating.totalCents).toBe(150);
    expect(priced.overageCents).toBe(0);
  });

  it('days in a period', () => {
    expect(['2027-02', '2028-02', '2027-04', '2027-12'].map(daysInPeriod)).toEqual([28, 29, 30, 31]);
  });
});

describe('monthlyLimitMinutes: the limit a request must go beyond', () => {
  it('the larger of the included minutes and the grant in force, without the plan or a partial month', () => {
    const facts = {
      period: '2027-03',
      timezone: 'UTC',
      monthlyFeeCents: 1000,
      serviceStart: '2027-03-20',
      policy: INITIAL_POLICY,
      plan: { minutes: 500, feeCents: 1500 },
      grants: [],
    };
    expect(monthlyLimitMinutes(termsForPeriod(facts))).toBe(2400);
    const granted = { ...facts, grants: [{ requestId: 'LR-1', minutes: 4000, fromPeriod: '2027-02', untilPeriod: '2027-03' }] };
    expect(monthlyLimitMinutes(termsForPeriod(granted))).toBe(4000);
    expect(monthlyLimitMinutes(termsForPeriod({ ...granted, period: '2027-04' }))).toBe(2400);
    expect(monthlyLimitMinutes(termsForPeriod({ ...granted, grants: [{ ...granted.grants[0]!, minutes: 2000 }] }))).toBe(2400);
  });

  it('property: the allowance is the limit plus the plan, prorated', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.option(fc.integer({ min: 1, max: 10_000 })),
        fc.option(fc.integer({ min: 1, max: 3000 })),
        fc.integer({ min: 1, max: 28 }),
        (included, limit, plan, startDay) => {
          const terms = termsForPeriod({
            period: '2027-02',
            timezone: 'UTC',
            monthlyFeeCents: 0,
            serviceStart: `2027-02-${String(startDay).padStart(2, '0')}`,
            policy: { ...INITIAL_POLICY, includedMinutes: included },
            plan: plan === null ? null : { minutes: plan, feeCents: 0 },
            grants: limit === null ? [] : [{ requestId: 'LR-1', minutes: limit, fromPeriod: '2027-01', untilPeriod: null }],
          });
          const full = monthlyLimitMinutes(terms) + (plan ?? 0);
          expect(allowanceSeconds(terms)).toBe(Math.ceil((full * (29 - startDay)) / 28) * 60);
        },
      ),
    );
  });
});
