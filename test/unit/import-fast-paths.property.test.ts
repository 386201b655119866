/**
 * The import's fast paths agree with the plain rules they stand in for: ZoneMonths with
 * periodOf and splitAtMonthBoundaries, LocalTimeReader with luxon, the COPY rows written a value
 * at a time with the template they were first written with.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { recordKey } from '../../db/usage-import';
import { keyText, StagingBatch } from '../../db/cdr-store';
import type { CdrRecord } from '../../billing/cdr/types';
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

describe('StagingBatch', () => {
  // The row as first written, a template literal (with copyText's escapes) encoded by Buffer.write.
  const copyText = (value: string | null): string => (value === null ? '\\N' : value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r'));
  const asFirstWritten = (r: CdrRecord, key: string, callerId: string | null, calleeId: string | null, callerPeriod: string | null, calleePeriod: string | null): string =>
    `${key}\t${r.line}\t${r.startMs}\t${r.answerMs ?? '\\N'}\t${r.billableSeconds}\t${copyText(r.callingNumber)}\t${copyText(r.calledNumber)}\t${copyText(r.accountCode)}\t${copyText(r.subscriberId ?? null)}\t${r.direction ?? '\\N'}\t${r.counted ? 't' : 'f'}\t${r.notCountedReason ?? '\\N'}\t${copyText(callerId)}\t${copyText(calleeId)}\t${callerPeriod ?? '\\N'}\t${calleePeriod ?? '\\N'}\n`;

  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\\', '\t', '\n', '\r', '1', '+', 'é', '\u{1F600}', '\ud800', 'N') }));
  const number = fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: -1e15, max: 1e15 }), fc.double({ noNaN: true }));
  const row = fc.record({
    time: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    digest: fc.stringMatching(/^[0-9a-f]{32}$/),
    line: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    startMs: number,
    answerMs: fc.option(number),
    billableSeconds: fc.integer({ min: 0, max: 999_999_999 }),
    callingNumber: fc.option(anyText),
    calledNumber: fc.option(anyText),
    accountCode: fc.option(anyText),
    subscriberId: fc.option(anyText, { nil: undefined }),
    direction: fc.option(fc.constantFrom('outgoing' as const, 'incoming' as const), { nil: undefined }),
    counted: fc.boolean(),
    notCountedReason: fc.option(fc.constantFrom('unanswered' as const, 'voicemail-deposit' as const)),
    callerId: fc.option(anyText),
    calleeId: fc.option(anyText),
    callerPeriod: fc.option(fc.constantFrom('2026-10', '2026-11')),
    calleePeriod: fc.option(fc.constantFrom('2026-10', '2026-11')),
  });

  type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

  const written = async (batch: StagingBatch): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const part of batch.recordsCopy()) parts.push(part as Buffer);
    return Buffer.concat(parts);
  };

  const add = (batch: StagingBatch, rows: Row[]): string => {
    let expected = '';
    for (const r of rows) {
      const record: CdrRecord = { format: 'asterisk', raw: '', endMs: 0, ...r };
      batch.addRecord(record, { time: r.time, digest: r.digest }, r.callerId, r.calleeId, r.callerPeriod, r.calleePeriod);
      expected += asFirstWritten(record, keyText(r.time, r.digest), r.callerId, r.calleeId, r.callerPeriod, r.calleePeriod);
    }
    return expected;
  };

  it('writes each record as the template literal did, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
        const batch = new StagingBatch();
        const expected = add(batch, rows);
        expect((await written(batch)).equals(Buffer.from(expected))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('writes rows across its 1 MiB buffers, and a value longer than one', async () => {
    const rows = fc.sample(row, { numRuns: 20_000, seed: 14 });
    rows[5_000] = { ...rows[5_000]!, callingNumber: 'é'.repeat(600_000), calledNumber: '\\'.repeat(300_000) };
    const batch = new StagingBatch();
    const expected = add(batch, rows);
    expect((await written(batch)).equals(Buffer.from(expected))).toBe(true);
  });
});
