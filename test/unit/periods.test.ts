import fc from 'fast-check';
import {
  assertTimeZone,
  comparePeriods,
  isValidPeriod,
  isValidTimeZone,
  nextPeriod,
  parsePeriod,
  periodBounds,
  periodOf,
  periodsBetween,
  previousPeriod,
  shiftPeriod,
  splitAtMonthBoundaries,
} from '../../billing/periods';

const HOUR_MS = 3_600_000;
const utc = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test date ${iso}`);
  return ms;
};

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Tokyo',
  'America/Sao_Paulo',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
] as const;

const START_2020 = Date.UTC(2020, 0, 1);
const END_2030 = Date.UTC(2031, 0, 1) - 1;

describe('parsePeriod / isValidPeriod', () => {
  it.each([
    ['2026-10', 2026, 10],
    ['2026-01', 2026, 1],
    ['2026-12', 2026, 12],
    ['0001-01', 1, 1],
  ])('%p → year %d month %d', (text, year, month) => {
    expect(parsePeriod(text)).toEqual({ year, month });
    expect(isValidPeriod(text)).toBe(true);
  });

  it.each(['2026-13', '2026-1', '26-10', '2026-00', '2026/10', '2026-10-01', '', ' 2026-10', '2026-1O'])('rejects %p with a RangeError naming it', (text) => {
    expect(isValidPeriod(text)).toBe(false);
    expect(() => parsePeriod(text)).toThrow(RangeError);
    expect(() => parsePeriod(text)).toThrow(`"${text}"`);
  });
});

describe('time zones', () => {
  it('accepts IANA names and rejects others, naming the zone', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(() => assertTimeZone('Europe/Berlin')).not.toThrow();
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow('"Mars/Olympus_Mons"');
  });
});

describe('periodOf', () => {
  it('places an instant near the end of October by zone', () => {
    // 2026-11-01T03:30Z: UTC November; 23:30 EDT on 31 October in New York; 12:30 JST 1 November in Tokyo.
    const t = utc('2026-11-01T03:30:00Z');
    expect(periodOf(t, 'UTC')).toBe('2026-11');
    expect(periodOf(t, 'America/New_York')).toBe('2026-10');
    expect(periodOf(t, 'Asia/Tokyo')).toBe('2026-11');
  });

  it('places an instant late on 31 October UTC in November for Tokyo', () => {
    // 2026-10-31T15:30Z is 00:30 on 1 November in Tokyo (UTC+9).
    const t = utc('2026-10-31T15:30:00Z');
    expect(periodOf(t, 'UTC')).toBe('2026-10');
    expect(periodOf(t, 'America/New_York')).toBe('2026-10');
    expect(periodOf(t, 'Asia/Tokyo')).toBe('2026-11');
  });

  it('treats the first instant of the month as in the month, the instant before as not', () => {
    // Midnight 1 November in New York is 04:00Z (still EDT, DST ends at 02:00 that morning).
    const boundary = utc('2026-11-01T04:00:00Z');
    expect(periodOf(boundary, 'America/New_York')).toBe('2026-11');
    expect(periodOf(boundary - 1, 'America/New_York')).toBe('2026-10');
    // Midnight 1 January in Tokyo is 15:00Z on 31 December.
    const newYearTokyo = utc('2026-12-31T15:00:00Z');
    expect(periodOf(newYearTokyo, 'Asia/Tokyo')).toBe('2027-01');
    expect(periodOf(newYearTokyo - 1, 'Asia/Tokyo')).toBe('2026-12');
    expect(periodOf(newYearTokyo, 'UTC')).toBe('2026-12');
  });

  it('throws on an unknown zone, naming it', () => {
    expect(() => periodOf(0, 'Not/AZone')).toThrow(RangeError);
    expect(() => periodOf(0, 'Not/AZone')).toThrow('"Not/AZone"');
  });
});

describe('periodBounds', () => {
  const hours = (b: { startMs: number; endMs: number }) => (b.endMs - b.startMs) / HOUR_MS;

  it('gives UTC month bounds', () => {
    expect(periodBounds('2026-10', 'UTC')).toEqual({
      startMs: utc('2026-10-01T00:00:00Z'),
      endMs: utc('2026-11-01T00:00:00Z'),
    });
    expect(hours(periodBounds('2026-02', 'UTC'))).toBe(28 * 24);
    expect(hours(periodBounds('2028-02', 'UTC'))).toBe(29 * 24);
  });

  it('starts the month at local midnight', () => {
    expect(periodBounds('2026-11', 'America/New_York').startMs).toBe(utc('2026-11-01T04:00:00Z'));
    expect(periodBounds('2026-12', 'America/New_York').startMs).toBe(utc('2026-12-01T05:00:00Z'));
    expect(periodBounds('2026-11', 'Asia/Tokyo').startMs).toBe(utc('2026-10-31T15:00:00Z'));
    expect(periodBounds('2026-11', 'Asia/Kolkata').startMs).toBe(utc('2026-10-31T18:30:00Z'));
  });

  it('counts the DST hour: March 2026 in Berlin has 743 hours, October 745', () => {
    expect(hours(periodBounds('2026-03', 'Europe/Berlin'))).toBe(743);
    expect(hours(periodBounds('2026-10', 'Europe/Berlin'))).toBe(745);
    expect(hours(periodBounds('2026-03', 'America/New_York'))).toBe(743);
    expect(hours(periodBounds('2026-11', 'America/New_York'))).toBe(721);
  });

  it('counts half-hour DST shifts (Lord Howe Island)', () => {
    // DST ends on the first Sunday of April, starts on the first Sunday of October, by 30 minutes.
    expect(hours(periodBounds('2026-04', 'Australia/Lord_Howe'))).toBe(720.5);
    expect(hours(periodBounds('2026-10', 'Australia/Lord_Howe'))).toBe(743.5);
  });

  it('makes consecutive periods adjacent', () => {
    for (const zone of ZONES) {
      for (const period of periodsBetween('2025-11', '2027-02')) {
        expect(periodBounds(period, zone).endMs).toBe(periodBounds(nextPeriod(period), zone).startMs);
      }
    }
  });

  it('rejects a bad period or zone', () => {
    expect(() => periodBounds('2026-13', 'UTC')).toThrow('"2026-13"');
    expect(() => periodBounds('2026-10', 'Nowhere/Land')).toThrow('"Nowhere/Land"');
  });

  it('property: periodOf of an instant lies within that period’s bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: START_2020, max: END_2030 }), fc.constantFrom(...ZONES), (t, zone) => {
        const { startMs, endMs } = periodBounds(periodOf(t, zone), zone);
        expect(startMs).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(endMs);
      }),
    );
  });
});

describe('nextPeriod / previousPeriod / shiftPeriod', () => {
  it('crosses years', () => {
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(previousPeriod('2027-01')).toBe('2026-12');
    expect(nextPeriod('2026-10')).toBe('2026-11');
    expect(previousPeriod('2026-10')).toBe('2026-09');
    expect(nextPeriod('1999-12')).toBe('2000-01');
  });

  it('shifts by many months', () => {
    expect(shiftPeriod('2026-10', 0)).toBe('2026-10');
    expect(shiftPeriod('2026-10', 3)).toBe('2027-01');
    expect(shiftPeriod('2026-10', -10)).toBe('2025-12');
    expect(shiftPeriod('2026-01', -13)).toBe('2024-12');
    expect(shiftPeriod('2026-01', 24)).toBe('2028-01');
  });

  it('rejects a malformed period', () => {
    expect(() => nextPeriod('2026-1')).toThrow(RangeError);
    expect(() => previousPeriod('26-10')).toThrow(RangeError);
  });

  it('property: next then previous is the identity, and shifts compose', () => {
    const period = fc
      .record({ year: fc.integer({ min: 1900, max: 2200 }), month: fc.integer({ min: 1, max: 12 }) })
      .map(({ year, month }) => `${year}-${String(month).padStart(2, '0')}`);
    fc.assert(
      fc.property(period, fc.integer({ min: -600, max: 600 }), fc.integer({ min: -600, max: 600 }), (p, a, b) => {
        expect(previousPeriod(nextPeriod(p))).toBe(p);
        expect(nextPeriod(previousPeriod(p))).toBe(p);
        expect(isValidPeriod(shiftPeriod(p, a))).toBe(true);
        expect(shiftPeriod(shiftPeriod(p, a), b)).toBe(shiftPeriod(p, a + b));
        expect(comparePeriods(p, nextPeriod(p))).toBe(-1);
      }),
    );
  });
});

describe('comparePeriods / periodsBetween', () => {
  it('compares', () => {
    expect(comparePeriods('2026-09', '2026-10')).toBeLessThan(0);
    expect(comparePeriods('2026-10', '2026-10')).toBe(0);
    expect(comparePeriods('2027-01', '2026-12')).toBeGreaterThan(0);
  });

  it('lists every period, both ends included', () => {
    expect(periodsBetween('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(periodsBetween('2026-10', '2026-10')).toEqual(['2026-10']);
    expect(periodsBetween('2026-11', '2026-10')).toEqual([]);
    expect(periodsBetween('2024-01', '2025-12')).toHaveLength(24);
  });
});

describe('splitAtMonthBoundaries', () => {
  it('splits a call crossing midnight 31 October in New York: 600 s + 600 s', () => {
    // 2026-10-31 23:50:00 EDT = 2026-11-01T03:50:00Z, 20 minutes.
    const start = utc('2026-11-01T03:50:00Z');
    expect(splitAtMonthBoundaries(start, 1200, 'America/New_York')).toEqual([
      { period: '2026-10', startMs: start, seconds: 600 },
      { period: '2026-11', startMs: utc('2026-11-01T04:00:00Z'), seconds: 600 },
    ]);
  });

  it('does not split the same call in UTC, where it is wholly in November', () => {
    const start = utc('2026-11-01T03:50:00Z');
    expect(splitAtMonthBoundaries(start, 1200, 'UTC')).toEqual([{ period: '2026-11', startMs: start, seconds: 1200 }]);
  });

  it('keeps a call that does not cross a boundary in one segment', () => {
    const start = utc('2026-10-15T12:00:00Z');
    expect(splitAtMonthBoundaries(start, 3600, 'Europe/Berlin')).toEqual([{ period: '2026-10', startMs: start, seconds: 3600 }]);
  });

  it('keeps a call ending exactly at the boundary in one segment', () => {
    const start = utc('2026-10-31T23:50:00Z');
    expect(splitAtMonthBoundaries(start, 600, 'UTC')).toEqual([{ period: '2026-10', startMs: start, seconds: 600 }]);
    expect(splitAtMonthBoundaries(start, 601, 'UTC')).toEqual([
      { period: '2026-10', startMs: start, seconds: 600 },
      { period: '2026-11', startMs: utc('2026-11-01T00:00:00Z'), seconds: 1 },
    ]);
  });

  it('gives a zero-second call one empty segment', () => {
    const start = utc('2026-10-31T23:59:59Z');
    expect(splitAtMonthBoundaries(start, 0, 'UTC')).toEqual([{ period: '2026-10', startMs: start, seconds: 0 }]);
  });

  it('splits across the year end in Tokyo', () => {
    // 2026-12-31 23:59:00 JST = 2026-12-31T14:59:00Z, 2 minutes.
    const start = utc('2026-12-31T14:59:00Z');
    expect(splitAtMonthBoundaries(start, 120, 'Asia/Tokyo')).toEqual([
      { period: '2026-12', startMs: start, seconds: 60 },
      { period: '2027-01', startMs: utc('2026-12-31T15:00:00Z'), seconds: 60 },
    ]);
  });

  it('splits a call spanning several months into every month', () => {
    const start = utc('2026-01-31T23:00:00Z');
    const seconds = 3600 + 28 * 86_400 + 31 * 86_400 + 7200; // to 2026-04-01T02:00Z
    const segments = splitAtMonthBoundaries(start, seconds, 'UTC');
    expect(segments.map((s) => [s.period, s.seconds])).toEqual([
      ['2026-01', 3600],
      ['2026-02', 28 * 86_400],
      ['2026-03', 31 * 86_400],
      ['2026-04', 7200],
    ]);
  });

  it('throws on an invalid zone, naming it', () => {
    expect(() => splitAtMonthBoundaries(0, 60, 'America/Nowhere')).toThrow(RangeError);
    expect(() => splitAtMonthBoundaries(0, 60, 'America/Nowhere')).toThrow('"America/Nowhere"');
  });

  it.each([-1, 1.5, Number.NaN])('rejects %p seconds', (seconds) => {
    expect(() => splitAtMonthBoundaries(0, seconds, 'UTC')).toThrow(RangeError);
  });

  const checkSplit = (start: number, seconds: number, zone: string): void => {
    const segments = splitAtMonthBoundaries(start, seconds, zone);
    expect(segments.length).toBeGreaterThanOrEqual(1);
    // Total seconds are preserved.
    expect(segments.reduce((sum, s) => sum + s.seconds, 0)).toBe(seconds);
    // The first segment starts with the call, in the call's period.
    expect(segments[0].startMs).toBe(start);
    expect(segments[0].period).toBe(periodOf(start, zone));
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      expect(Number.isSafeInteger(s.seconds)).toBe(true);
      expect(s.seconds).toBeGreaterThanOrEqual(0);
      expect(periodOf(s.startMs, zone)).toBe(s.period);
      if (i > 0) {
        // Consecutive, non-decreasing periods; each later segment starts at its month's first instant.
        expect(s.period).toBe(nextPeriod(segments[i - 1].period));
        expect(s.seconds).toBeGreaterThan(0);
        expect(s.startMs).toBe(periodBounds(s.period, zone).startMs);
        expect(s.startMs).toBe(segments[i - 1].startMs + segments[i - 1].seconds * 1000);
      }
      if (i < segments.length - 1) {
        // A segment that is followed by another ends exactly at its month's end.
        expect(s.startMs + s.seconds * 1000).toBe(periodBounds(s.period, zone).endMs);
      } else {
        // The last segment ends within its month (or exactly at its end).
        expect(s.startMs + s.seconds * 1000).toBeLessThanOrEqual(periodBounds(s.period, zone).endMs);
      }
    }
  };

  const wholeSecondStart = fc.integer({ min: START_2020 / 1000, max: Math.floor(END_2030 / 1000) }).map((s) => s * 1000);

  it('property: splitting keeps the total and yields consecutive periods (0..200000 s)', () => {
    fc.assert(fc.property(wholeSecondStart, fc.integer({ min: 0, max: 200_000 }), fc.constantFrom(...ZONES), checkSplit), { numRuns: 300 });
  });

  it('property: the same holds for calls starting close before a month boundary', () => {
    const nearBoundary = fc
      .record({
        period: fc.integer({ min: 2020 * 12, max: 2030 * 12 + 11 }).map((i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`),
        zone: fc.constantFrom(...ZONES),
        secondsBefore: fc.integer({ min: 0, max: 7200 }),
      })
      .map(({ period, zone, secondsBefore }) => ({ zone, start: periodBounds(period, zone).endMs - secondsBefore * 1000 }));
    fc.assert(
      fc.property(nearBoundary, fc.integer({ min: 0, max: 200_000 }), ({ zone, start }, seconds) => checkSplit(start, seconds, zone)),
      { numRuns: 300 },
    );
  });

  it('property: long calls spanning many months still add up', () => {
    fc.assert(fc.property(wholeSecondStart, fc.integer({ min: 0, max: 400 * 86_400 }), fc.constantFrom(...ZONES), checkSplit), { numRuns: 50 });
  });

  it('property: a start with sub-second milliseconds keeps the total and consecutive periods', () => {
    fc.assert(
      fc.property(fc.integer({ min: START_2020, max: END_2030 }), fc.integer({ min: 0, max: 200_000 }), fc.constantFrom(...ZONES), (start, seconds, zone) => {
        const segments = splitAtMonthBoundaries(start, seconds, zone);
        expect(segments.reduce((sum, s) => sum + s.seconds, 0)).toBe(seconds);
        for (let i = 1; i < segments.length; i++) {
          expect(segments[i].period).toBe(nextPeriod(segments[i - 1].period));
          expect(comparePeriods(segments[i - 1].period, segments[i].period)).toBeLessThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
