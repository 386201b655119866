/**
 * The import's fast paths agree with the plain rules they stand in for: ZoneMonths with
 * periodOf and splitAtMonthBoundaries, LocalTimeReader with luxon.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { recordKey } from '../../db/usage-import';
import { DateTime } from 'luxon';
import { LocalTimeReader } from '../../billing/local-time';
import { periodOf, splitAtMonthBoundaries, ZoneMonths } from '../../billing/periods';

const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'America/St_Johns'];
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2027, 0, 1);

describe('ZoneMonths', () => {
  it('places instants and calls exactly as periodOf and splitAtMonthBoundaries do, in any order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        // calls near month ends are the interesting ones: a few hours either side of the 1st
        fc.array(
          fc.record({
            at: fc.oneof(
              fc.integer({ min: FROM, max: TO }),
              fc.tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: -86_400_000, max: 86_400_000 })).map(([m, off]) => Date.UTC(2024, m, 1) + off),
            ),
            seconds: fc.integer({ min: 0, max: 5 * 86_400 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (zone, calls) => {
          const months = new ZoneMonths(zone);
          for (const { at, seconds } of calls) {
            const startMs = Math.floor(at / 1000) * 1000;
            expect(months.periodOf(startMs)).toBe(periodOf(startMs, zone));
            const segments = splitAtMonthBoundaries(startMs, seconds, zone);
            expect(months.singleMonth(startMs, seconds)).toBe(segments.length === 1 ? segments[0]!.period : undefined);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('LocalTimeReader', () => {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

  it('reads any stamp, real or not, as luxon does (the earlier instant in a repeated hour)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.record({
          year: fc.integer({ min: 2000, max: 2030 }),
          month: fc.integer({ min: 0, max: 13 }),
          day: fc.integer({ min: 0, max: 32 }),
          hour: fc.integer({ min: 0, max: 24 }),
          minute: fc.integer({ min: 0, max: 60 }),
          second: fc.integer({ min: 0, max: 60 }),
        }),
        (zone, t) => {
          const text = `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
          const expected = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone });
          const read = new LocalTimeReader(zone).read(text);
          if (t.hour === 24) {
            expect(read).toBeUndefined(); // luxon takes 24:00:00 for the next midnight; switches never write it
          } else if (expected.isValid && DateTime.fromObject(t, { zone }).hour !== t.hour) {
            // a local time skipped at a daylight-saving change: not a time a switch writes; any
            // reading within the skipped hour will do (luxon and the reader pick different ends)
            expect(Math.abs(read! - expected.toMillis())).toBeLessThanOrEqual(3_600_000);
          } else if (!expected.isValid) {
            // luxon refuses a time skipped at a daylight-saving change; the reader moves it forward
            const calendarValid = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone: 'UTC' }).isValid;
            expect(read === undefined).toBe(!calendarValid);
          } else {
            expect(read).toBe(expected.toMillis());
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses stamps of the wrong shape', () => {
    const reader = new LocalTimeReader('UTC');
    for (const text of [
      '2026-10-05',
      '2026-10-05 14:30',
      '2026/10/05 14:30:00',
      '2026-10-05 14:30:0x',
      '2026-1O-05 14:30:00',
      '2026-10-05 14:30:00.',
      '2026-10-05 14:30:00.5x',
      '-026-10-05 14:30:00',
    ]) {
      expect(reader.read(text)).toBeUndefined();
    }
    expect(reader.read('2026-10-05T14:30:00.250')).toBe(Date.UTC(2026, 9, 5, 14, 30, 0));
    expect(reader.read('2024-02-29 00:00:00')).toBe(Date.UTC(2024, 1, 29));
    expect(reader.read('2026-02-29 00:00:00')).toBeUndefined();
  });
});

describe('recordKey', () => {
  // The key as first defined: keys already stored must stay the keys of the same rows.
  const asFirstDefined = (source: string, raw: string, startMs: number): string => {
    const h = createHash('md5').update(`${source}\u0000${raw}`).digest('hex');
    const t = Math.max(0, Math.floor(startMs)).toString(16).padStart(12, '0').slice(-12);
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8, 20)}`;
  };

  it('is the same uuid as the first definition for any row and time', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.oneof(fc.integer({ min: -1e6, max: 2 ** 53 - 1 }), fc.double({ min: 0, max: 2e12, noNaN: true })), (source, raw, startMs) => {
        expect(recordKey(source, raw, startMs)).toBe(asFirstDefined(source, raw, startMs));
      }),
      { numRuns: 2000 },
    );
  });
});
