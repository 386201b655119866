/**
 * Our own usage formats (csv with a header, jsonl), which name the subscriber and the direction:
 * billing/cdr/own-formats.ts.
 */
import { parseJsonlLine, UsageCsvReader } from '../../billing/cdr/own-formats';
import type { ReadResult } from '../../billing/cdr/types';
import { fixtureText, outcomesByLine, readFixture, recordAt, runReader } from '../helpers/cdr-rows';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mo - 1, d, h, mi, s);
const TIME = 'a time like 2026-10-05 14:30:00 (or ISO 8601)';

describe('UsageCsvReader', () => {
  function readUsageCsv(timezone: string): ReadResult[] {
    const { rows, unreadable } = readFixture('usage.csv');
    expect(unreadable).toEqual([]);
    const [header, ...data] = rows;
    expect(UsageCsvReader.checkHeader(header!.fields)).toBeUndefined();
    return runReader(new UsageCsvReader({ timezone, header: header!.fields }), data);
  }

  it('reads usage.csv: kinds map to counted or a not-counted reason', () => {
    expect(outcomesByLine(readUsageCsv('UTC'))).toEqual({
      2: 'counted 123',
      3: 'counted 60',
      4: 'counted 30',
      5: 'voicemail-deposit',
      6: 'unanswered',
      7: 'not-a-call',
      8: 'counted 1200',
    });
  });

  it('sets subscriber, direction and times: start is the answer, end is start + seconds', () => {
    const results = readUsageCsv('Europe/Berlin');
    const { rows } = readFixture('usage.csv');
    expect(recordAt(results, 2)).toEqual({
      format: 'csv',
      line: 2,
      raw: rows[1]!.raw,
      startMs: utc(2026, 10, 5, 12, 30, 0),
      answerMs: utc(2026, 10, 5, 12, 30, 0),
      endMs: utc(2026, 10, 5, 12, 32, 3),
      billableSeconds: 123,
      callingNumber: null,
      calledNumber: null,
      accountCode: null,
      counted: true,
      notCountedReason: null,
      subscriberId: 'alice',
      direction: 'outgoing',
    });
    expect(recordAt(results, 3)).toMatchObject({ subscriberId: 'bob', direction: 'incoming' });
    // An ISO time with its own zone keeps it; "out" is accepted for outgoing.
    expect(recordAt(results, 4)).toMatchObject({ startMs: utc(2026, 10, 5, 14, 0, 0), direction: 'outgoing' });
    // An unanswered attempt has no answer time.
    expect(recordAt(results, 6)).toMatchObject({ answerMs: null, startMs: utc(2026, 10, 6, 7, 5, 0) });
    expect(recordAt(results, 8)).toMatchObject({ startMs: utc(2026, 10, 31, 22, 50, 0), endMs: utc(2026, 10, 31, 23, 10, 0) });
  });

  it('checks the header, naming what is missing', () => {
    expect(UsageCsvReader.checkHeader(['subscriber', 'start', 'answer_seconds', 'direction', 'kind'])).toBeUndefined();
    expect(UsageCsvReader.checkHeader(['\uFEFFSubscriber ', 'START', 'answer_seconds', 'direction', 'kind'])).toBeUndefined();
    expect(UsageCsvReader.checkHeader(['subscriber', 'start', 'seconds', 'direction'])).toBe(
      'the header lacks column(s) answer_seconds, kind: expected subscriber,start,answer_seconds,direction,kind (got subscriber,start,seconds,direction)',
    );
    expect(() => new UsageCsvReader({ timezone: 'UTC', header: ['subscriber'] })).toThrow(/the header lacks column\(s\) start/);
  });

  it("takes the columns in the header's order, extra columns ignored", () => {
    const reader = new UsageCsvReader({ timezone: 'UTC', header: ['kind', 'note', 'direction', 'answer_seconds', 'start', 'subscriber'] });
    const [result] = reader.push(['call', 'x', 'incoming', '42', '2026-10-05 10:00:00', 'erin'], 2, 'raw');
    expect(result).toMatchObject({ ok: true, record: { subscriberId: 'erin', direction: 'incoming', billableSeconds: 42, counted: true } });
  });

  it('takes a header pushed as the first row (when none was given)', () => {
    const { rows } = readFixture('usage.csv');
    const results = runReader(new UsageCsvReader({ timezone: 'UTC' }), rows);
    expect(Object.keys(outcomesByLine(results))).toEqual(['2', '3', '4', '5', '6', '7', '8']);
    expect(runReader(new UsageCsvReader({ timezone: 'UTC' }), [{ fields: ['subscriber', 'answer_seconds'], line: 1, raw: 'subscriber,answer_seconds' }])).toEqual([
      { ok: false, line: 1, raw: 'subscriber,answer_seconds', reason: expect.stringContaining('the header lacks column(s) start, direction, kind') },
    ]);
  });

  it('rejects each bad row with a reason naming the value', () => {
    const reader = new UsageCsvReader({ timezone: 'UTC' });
    const reason = (fields: string[]): string => outcomesByLine(reader.push(fields, 9, fields.join(',')))[9]!;
    expect(reason([' ', '2026-10-05 10:00:00', '60', 'outgoing', 'call'])).toBe('rejected: subscriber is empty');
    expect(reason(['alice', '05/10/2026 10:00', '60', 'outgoing', 'call'])).toBe(`rejected: start "05/10/2026 10:00" is not ${TIME}`);
    expect(reason(['alice', '2026-10-05', '60', 'outgoing', 'call'])).toBe(`rejected: start "2026-10-05" is not ${TIME}`);
    expect(reason(['alice', '2026-10-05 10:00:00', '-5', 'outgoing', 'call'])).toBe('rejected: answer_seconds "-5" is not a whole number of seconds ≥ 0');
    expect(reason(['alice', '2026-10-05 10:00:00', 'ten', 'outgoing', 'call'])).toBe('rejected: answer_seconds "ten" is not a whole number of seconds ≥ 0');
    expect(reason(['alice', '2026-10-05 10:00:00', '1.5', 'outgoing', 'call'])).toBe('rejected: answer_seconds "1.5" is not a whole number of seconds ≥ 0');
    expect(reason(['alice', '2026-10-05 10:00:00', '700000', 'outgoing', 'call'])).toBe('rejected: answer_seconds 700000 is longer than a week');
    expect(reason(['alice', '2026-10-05 10:00:00', '60', 'sideways', 'call'])).toBe('rejected: direction "sideways" is not outgoing or incoming');
    expect(reason(['alice', '2026-10-05 10:00:00', '60', 'outgoing', 'fax'])).toBe('rejected: kind "fax" is not one of call, voicemail, unanswered, feature');
    expect(reason(['alice', '2026-10-05 10:00:00', '60', 'outgoing'])).toBe('rejected: wrong number of columns: 4 (expected 5, as in the header)');
    expect(reason([' alice ', '2026-10-05 10:00:00', ' 60 ', ' Outgoing ', ' CALL '])).toBe('counted 60');
  });
});

describe('parseJsonlLine', () => {
  it('reads usage.jsonl', () => {
    const lines = fixtureText('usage.jsonl')
      .split('\n')
      .filter((text) => text !== '');
    const results = lines.map((text, i) => parseJsonlLine(text, i + 1, 'Europe/Berlin'));
    expect(outcomesByLine(results)).toEqual({ 1: 'counted 123', 2: 'counted 60', 3: 'voicemail-deposit', 4: 'unanswered', 5: 'not-a-call' });
    expect(recordAt(results, 1)).toEqual({
      format: 'jsonl',
      line: 1,
      raw: lines[0],
      startMs: utc(2026, 10, 5, 12, 30, 0),
      answerMs: utc(2026, 10, 5, 12, 30, 0),
      endMs: utc(2026, 10, 5, 12, 32, 3),
      billableSeconds: 123,
      callingNumber: null,
      calledNumber: null,
      accountCode: null,
      counted: true,
      notCountedReason: null,
      subscriberId: 'alice',
      direction: 'outgoing',
    });
    expect(recordAt(results, 2)).toMatchObject({ startMs: utc(2026, 10, 5, 13, 0, 0), subscriberId: 'bob', direction: 'incoming' });
    expect(recordAt(results, 5)).toMatchObject({ direction: 'incoming', counted: false });
  });

  it('rejects each bad line with a reason naming the value', () => {
    const call = { subscriber: 'alice', start: '2026-10-05 14:30:00', answer_seconds: 60, direction: 'outgoing', kind: 'call' };
    const reason = (text: string): string => {
      const result = parseJsonlLine(text, 3, 'UTC');
      expect(result.ok ? result.record : result).toMatchObject({ line: 3, raw: text });
      return result.ok ? 'ok' : result.reason;
    };
    const withValue = (values: Record<string, unknown>): string => reason(JSON.stringify({ ...call, ...values }));
    expect(reason('{"subscriber": "alice",')).toMatch(/^not valid JSON: /);
    expect(reason('[1, 2]')).toBe('not a JSON object: [1,2]');
    expect(reason('42')).toBe('not a JSON object: 42');
    expect(reason('   ')).toBe('empty line (expected a JSON object)');
    expect(withValue({ subscriber: 1001 })).toBe('subscriber 1001 is not a subscriber id (a string)');
    expect(withValue({ subscriber: undefined })).toBe('subscriber missing is not a subscriber id (a string)');
    expect(withValue({ start: '2026-13-05 14:30:00' })).toBe(`start "2026-13-05 14:30:00" is not ${TIME}`);
    expect(withValue({ start: 1791210600000 })).toBe(`start 1791210600000 is not ${TIME}`);
    expect(withValue({ answer_seconds: -1 })).toBe('answer_seconds -1 is not a whole number of seconds ≥ 0');
    expect(withValue({ answer_seconds: 1.5 })).toBe('answer_seconds 1.5 is not a whole number of seconds ≥ 0');
    expect(withValue({ answer_seconds: null })).toBe('answer_seconds null is not a whole number of seconds ≥ 0');
    // 1e400 reads as Infinity, which JSON would show as null
    expect(reason(JSON.stringify(call).replace('"answer_seconds":60', '"answer_seconds":1e400'))).toBe(
      'answer_seconds (a number out of range) is not a whole number of seconds ≥ 0',
    );
    expect(withValue({ answer_seconds: 604801 })).toBe('answer_seconds 604801 is longer than a week');
    expect(withValue({ direction: 'both' })).toBe('direction "both" is not outgoing or incoming');
    expect(withValue({ kind: 'sms' })).toBe('kind "sms" is not one of call, voicemail, unanswered, feature');
    expect(withValue({ answer_seconds: '60' })).toBe('ok'); // digits in a string, as in the csv
  });
});
