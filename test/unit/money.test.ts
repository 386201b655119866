import fc from 'fast-check';
import { CENTS_PER_UNIT, formatCents, formatMicros, lineAmountCents, MICROS_PER_CENT, MICROS_PER_UNIT, parseAmountToCents, parseRateToMicros } from '../../billing/money';

describe('money constants', () => {
  it('relate micros, cents and currency units', () => {
    expect(MICROS_PER_UNIT).toBe(1_000_000);
    expect(CENTS_PER_UNIT).toBe(100);
    expect(MICROS_PER_CENT).toBe(MICROS_PER_UNIT / CENTS_PER_UNIT);
  });
});

describe('lineAmountCents', () => {
  it.each([
    // [quantity, unit price micros, expected cents]
    [1, 5000, 1], // exactly half a cent rounds up
    [1, 4999, 0], // just under half a cent rounds down
    [1, 5001, 1],
    [1, 14999, 1],
    [1, 15000, 2],
    [61, 50_000, 305], // 61 overage minutes at 0.05 USD
    [1, 50_000, 5],
    [0, 50_000, 0],
    [50_000, 0, 0],
    [3, 12_500, 4], // 3.75 cents
    [1, 12_500, 1], // 1.25 cents
    [2, 12_500, 3], // 2.5 cents → 3
    [1, 29_990_000, 2999], // a 29.99 fee as a line of quantity 1
    [2400, 50_000, 12_000],
  ])('%d × %d micros = %d cents', (quantity, micros, cents) => {
    expect(lineAmountCents(quantity, micros)).toBe(cents);
  });

  it('rounds a credit to the negative of the matching charge (half away from zero)', () => {
    expect(lineAmountCents(-1, 5000)).toBe(-1);
    expect(lineAmountCents(1, -5000)).toBe(-1);
    expect(lineAmountCents(-1, 4999)).toBe(0); // not -0
    expect(lineAmountCents(-61, 50_000)).toBe(-305);
  });

  it('stays exact where a float product would lose precision', () => {
    // 9,007,199,254,740,991 × 1 micros = 900,719,925,474.0991 cents → 900,719,925,474
    expect(lineAmountCents(Number.MAX_SAFE_INTEGER, 1)).toBe(900_719_925_474);
    // 1e12 × 15,000 micros = 1.5e12 cents exactly
    expect(lineAmountCents(1e12, 15_000)).toBe(1.5e12);
  });

  it.each([
    [1.5, 50_000],
    [1, 0.5],
    [Number.NaN, 1],
    [1, Number.POSITIVE_INFINITY],
    [Number.MAX_SAFE_INTEGER + 1, 1],
  ])('rejects a non-whole or unsafe input (%p, %p)', (quantity, micros) => {
    expect(() => lineAmountCents(quantity, micros)).toThrow(RangeError);
  });

  it('names the offending input', () => {
    expect(() => lineAmountCents(1.5, 1)).toThrow(/quantity.*1\.5/);
    expect(() => lineAmountCents(1, 0.25)).toThrow(/unit price.*0\.25/);
  });

  it('property: the result is within half a cent of quantity × price / 10000', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), (quantity, micros) => {
        const cents = lineAmountCents(quantity, micros);
        expect(Number.isSafeInteger(cents)).toBe(true);
        // |cents - q·u/10000| ≤ 1/2  ⇔  |2·(cents·10000 − q·u)| ≤ 10000, in exact integers.
        const diff = 2n * (BigInt(cents) * 10_000n - BigInt(quantity) * BigInt(micros));
        expect(diff <= 10_000n && diff >= -10_000n).toBe(true);
        // Ties (exactly half a cent) go away from zero.
        if (diff === 10_000n || diff === -10_000n) {
          expect(Math.abs(cents) * 10_000 > Math.abs(quantity * micros)).toBe(true);
        }
      }),
    );
  });

  it('property: a whole number of cents per unit is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (q, centsEach) => {
        expect(lineAmountCents(q, centsEach * MICROS_PER_CENT)).toBe(q * centsEach);
      }),
    );
  });

  it('property: the amount is monotonic in the quantity for a non-negative price', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 100_000_000 }), (a, b, micros) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(lineAmountCents(lo, micros)).toBeLessThanOrEqual(lineAmountCents(hi, micros));
      }),
    );
  });
});

describe('parseAmountToCents', () => {
  it.each([
    ['29.99', 2999],
    ['15', 1500],
    ['1.5', 150],
    ['0', 0],
    ['0.01', 1],
    ['0.1', 10],
    ['50.00', 5000],
    ['007.05', 705],
    [' 25.00 ', 2500],
    ['999999999999.99', 99_999_999_999_999],
  ])('%p → %d cents', (text, cents) => {
    expect(parseAmountToCents(text)).toBe(cents);
  });

  it.each(['-1', '1.234', 'abc', '', '1.', '.5', '1,50', '+1', '1e3', '1 000', '$5', '1.2.3', '0x10', '1234567890123'])('rejects %p with a RangeError naming the value', (text) => {
    let thrown: unknown;
    try {
      parseAmountToCents(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as RangeError).message).toContain(`"${text}"`);
    expect((thrown as RangeError).message).toContain('amount');
  });

  it('says when there are too many decimals', () => {
    expect(() => parseAmountToCents('1.234')).toThrow(/more than 2 decimal places/);
  });

  it('property: round-trips with formatCents for any non-negative amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999_999_999 }), (cents) => {
        expect(parseAmountToCents(formatCents(cents))).toBe(cents);
      }),
    );
  });
});

describe('parseRateToMicros', () => {
  it.each([
    ['0.05', 50_000],
    ['0.050000', 50_000],
    ['1', 1_000_000],
    ['0.000001', 1],
    ['0.012345', 12_345],
    ['15.00', 15_000_000],
    ['0', 0],
  ])('%p → %d micros', (text, micros) => {
    expect(parseRateToMicros(text)).toBe(micros);
  });

  it.each(['-0.05', '0.0000001', 'five cents', '', '0,05'])('rejects %p with a RangeError naming the value', (text) => {
    expect(() => parseRateToMicros(text)).toThrow(RangeError);
    expect(() => parseRateToMicros(text)).toThrow(`"${text}"`);
    expect(() => parseRateToMicros(text)).toThrow(/rate/);
  });

  it('says when there are too many decimals', () => {
    expect(() => parseRateToMicros('0.0000001')).toThrow(/more than 6 decimal places/);
  });

  it('property: round-trips with formatMicros for realistic rates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), (micros) => {
        expect(parseRateToMicros(formatMicros(micros))).toBe(micros);
      }),
    );
  });
});

describe('formatCents', () => {
  it.each([
    [305, '3.05'],
    [5, '0.05'],
    [-5, '-0.05'],
    [0, '0.00'],
    [50, '0.50'],
    [100, '1.00'],
    [2999, '29.99'],
    [-305, '-3.05'],
    [123_456_789, '1234567.89'],
  ])('%d → %p', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it('property: always two decimals, sign only when negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (cents) => {
        const text = formatCents(cents);
        expect(text).toMatch(/^-?\d+\.\d{2}$/);
        expect(text.startsWith('-')).toBe(cents < 0);
      }),
    );
  });
});

describe('formatMicros', () => {
  it.each([
    [50_000, '0.05'],
    [12_345, '0.012345'],
    [1, '0.000001'],
    [10, '0.00001'],
    [100_000, '0.10'],
    [1_000_000, '1.00'],
    [1_500_000, '1.50'],
    [0, '0.00'],
    [15_000_000, '15.00'],
    [-50_000, '-0.05'],
    [1_000_100, '1.0001'],
  ])('%d → %p', (micros, text) => {
    expect(formatMicros(micros)).toBe(text);
  });
});
