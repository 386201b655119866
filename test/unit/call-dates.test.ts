/** Dates a call can have (billing/cdr/call-dates.ts): before 2000 or more than a day ahead is rejected with its line. */
import { AsteriskReader } from '../../billing/cdr/asterisk';
import { callDateProblem, withinCallDates } from '../../billing/cdr/call-dates';
import { splitCsvLine } from '../../billing/cdr/csv-line';
import { UsageCsvReader } from '../../billing/cdr/own-formats';
import type { CdrReader, ReadResult } from '../../billing/cdr/types';
import { LocalTimeReader } from '../../billing/local-time';
import { asteriskRow } from '../helpers/asterisk-rows';

const NOW = Date.parse('2026-11-15T12:00:00Z');
const BOUNDS = { earliestDay: '2000-01-01', maxFutureHours: 24, nowMs: NOW };

function readAll(reader: CdrReader, lines: string[]): ReadResult[] {
  const results = lines.flatMap((raw, i) => {
    const split = splitCsvLine(raw, false);
    if (!split.ok) throw new Error(split.reason);
    return reader.push(split.fields, i + 1, raw);
  });
  return [...results, ...reader.flush()];
}

test('a switch time stamp in year 0001 is year 0001, not 1901', () => {
  expect(new LocalTimeReader('UTC').read('0001-01-01 00:00:00')).toBe(Date.parse('0001-01-01T00:00:00Z'));
  expect(new Date(new LocalTimeReader('UTC').read('0099-12-31 23:59:59')!).toISOString()).toBe('0099-12-31T23:59:59.000Z');
  expect(new Date(new LocalTimeReader('Europe/Paris').read('0001-06-01 12:00:00')!).getUTCFullYear()).toBe(1);
});

test('Asterisk rows dated year 0001, 1969, 2099 or 9999 are rejected with their line and reason; the rest are read', () => {
  const row = (start: string, n: number): string => asteriskRow({ src: '1001', dst: '0200555010', start, billsec: 60, uniqueid: `1790000000.${n}` });
  const results = readAll(withinCallDates(new AsteriskReader({ timezone: 'UTC' }), BOUNDS), [
    row('2026-11-10 09:00:00', 1),
    row('0001-01-01 00:00:00', 2),
    row('1969-12-31 23:00:00', 3),
    row('2099-01-01 00:00:00', 4),
    row('9999-06-01 00:00:00', 5),
    row('1999-12-31 23:59:59', 6),
    row('2000-01-01 00:00:00', 7),
    row('2026-11-16 11:59:00', 8), // 23 h 59 min ahead: a switch clock a little fast
  ]);
  const byLine = new Map(results.map((r) => [r.ok ? r.record.line : r.line, r]));
  expect([1, 7, 8].map((line) => byLine.get(line)!.ok)).toEqual([true, true, true]);
  const rejected = results.filter((r): r is Extract<ReadResult, { ok: false }> => !r.ok);
  expect(rejected.map((r) => [r.line, r.reason])).toEqual([
    [2, 'start 0001-01-01 00:00:00 UTC is before 2000-01-01, the earliest date a call is accepted for (BILLING_IMPORT_EARLIEST)'],
    [3, 'start 1969-12-31 23:00:00 UTC is before 2000-01-01, the earliest date a call is accepted for (BILLING_IMPORT_EARLIEST)'],
    [4, 'start 2099-01-01 00:00:00 UTC is more than 24 h after the import (BILLING_IMPORT_MAX_FUTURE_HOURS)'],
    [5, 'start 9999-06-01 00:00:00 UTC is more than 24 h after the import (BILLING_IMPORT_MAX_FUTURE_HOURS)'],
    [6, 'start 1999-12-31 23:59:59 UTC is before 2000-01-01, the earliest date a call is accepted for (BILLING_IMPORT_EARLIEST)'],
  ]);
  expect(rejected[0]!.raw).toContain('"0001-01-01 00:00:00"');
});

test('our own csv and ISO times with a zone are checked the same way', () => {
  const header = 'subscriber,start,answer_seconds,direction,kind'.split(',');
  const results = readAll(withinCallDates(new UsageCsvReader({ timezone: 'UTC', header }), BOUNDS), [
    'ada,0001-01-01T00:00:00Z,60,outgoing,call',
    'ada,2026-11-01 10:00:00,60,outgoing,call',
  ]);
  expect(results.map((r) => r.ok)).toEqual([false, true]);
});

test('both bounds are settings', () => {
  const march = Date.parse('2001-03-01T00:00:00Z');
  expect(callDateProblem(march, { ...BOUNDS, earliestDay: '2001-03-02' })).toContain('is before 2001-03-02');
  expect(callDateProblem(march, BOUNDS)).toBeUndefined();
  expect(callDateProblem(NOW + 3 * 3_600_000, { ...BOUNDS, maxFutureHours: 2 })).toBe(
    'start 2026-11-15 15:00:00 UTC is more than 2 h after the import (BILLING_IMPORT_MAX_FUTURE_HOURS)',
  );
  expect(callDateProblem(NOW + 3 * 3_600_000, { ...BOUNDS, maxFutureHours: 3 })).toBeUndefined();
});
