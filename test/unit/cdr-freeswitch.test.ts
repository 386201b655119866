/**
 * The FreeSWITCH mod_cdr_csv reader against hand-written fixtures (test/fixtures/cdr/README.md)
 * built from ../shared/cdr-formats.md §2, and the rules of DESIGN, "Usage import rules".
 */
import { FREESWITCH_EXAMPLE_COLUMNS, FreeswitchReader } from '../../billing/cdr/freeswitch';
import type { ReadResult } from '../../billing/cdr/types';
import { outcomesByLine, readFixture, recordAt, runReader, type CsvReadOptions } from '../helpers/cdr-rows';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mo - 1, d, h, mi, s);

/** The importer reads FreeSWITCH files with ltrim (db/usage-import.ts). */
function readFreeswitch(
  name: string,
  options: { timezone?: string; voicemailNumbers?: string[]; featureCodes?: string[] } = {},
  csv: CsvReadOptions = { ltrim: true },
): ReadResult[] {
  const { rows, unreadable } = readFixture(name, csv);
  expect(unreadable).toEqual([]);
  return runReader(new FreeswitchReader({ timezone: 'UTC', ...options }), rows);
}

const PLAIN_LEG: Record<string, string> = {
  caller_id_name: 'Extension 1000',
  caller_id_number: '1000',
  destination_number: '1001',
  context: 'default',
  start_stamp: '2026-10-05 09:00:00',
  answer_stamp: '2026-10-05 09:00:05',
  end_stamp: '2026-10-05 09:01:05',
  duration: '65',
  billsec: '60',
  hangup_cause: 'NORMAL_CLEARING',
  uuid: 'a-leg',
  bleg_uuid: '',
  accountcode: '1000',
  read_codec: 'PCMU',
  write_codec: 'PCMU',
};
function leg(values: Record<string, string> = {}): string[] {
  const row: Record<string, string> = { ...PLAIN_LEG, ...values };
  return FREESWITCH_EXAMPLE_COLUMNS.map((column) => row[column]!);
}
const bridgedTo = (bleg: string): Record<string, string> => ({ bleg_uuid: bleg });
const voicemailLeg = (uuid: string): Record<string, string> => ({ destination_number: 'voicemail', uuid, answer_stamp: '', billsec: '0' });

describe('templates', () => {
  it('example (15 quoted columns): answered means an answer stamp, whatever the hangup cause', () => {
    const results = readFreeswitch('freeswitch-example.csv');
    expect(outcomesByLine(results)).toEqual({
      1: 'counted 300',
      2: 'unanswered', // NORMAL_CLEARING, empty answer stamp
      3: 'counted 120',
      4: 'unanswered',
      5: 'unanswered',
      6: 'voicemail-retrieval', // *98
      7: 'counted 600',
      8: 'unanswered',
    });
    // Answered, bridged A-legs wait for a possible voicemail leg: they come out at the end.
    expect(results.map((r) => (r.ok ? r.record.line : r.line))).toEqual([2, 4, 5, 6, 8, 1, 3, 7]);
  });

  it('maps the fields of a row into the record', () => {
    const { rows } = readFixture('freeswitch-example.csv', { ltrim: true });
    const results = readFreeswitch('freeswitch-example.csv');
    expect(recordAt(results, 1)).toEqual({
      format: 'freeswitch',
      line: 1,
      raw: rows[0]!.raw,
      startMs: utc(2026, 10, 5, 9, 0, 0),
      answerMs: utc(2026, 10, 5, 9, 0, 4),
      endMs: utc(2026, 10, 5, 9, 5, 4),
      billableSeconds: 300,
      callingNumber: '1000',
      calledNumber: '1001',
      accountCode: '1000',
      counted: true,
      notCountedReason: null,
    });
    expect(recordAt(results, 2)).toMatchObject({ answerMs: null, billableSeconds: 0 });
    expect(recordAt(results, 3)).toMatchObject({ callingNumber: '01632960555', accountCode: null });
  });

  it('reads local time in the file zone', () => {
    expect(recordAt(readFreeswitch('freeswitch-example.csv', { timezone: 'Asia/Kolkata' }), 1).startMs).toBe(utc(2026, 10, 5, 3, 30, 0));
  });

  it('default (13 columns): the accountcode written with a leading space, with ltrim as the importer reads it', () => {
    const results = readFreeswitch('freeswitch-default.csv');
    expect(outcomesByLine(results)).toEqual({ 1: 'counted 300', 2: 'unanswered', 3: 'counted 120' });
    expect([1, 2, 3].map((line) => recordAt(results, line).accountCode)).toEqual(['1000', '1000', null]);
  });

  it('default: without ltrim, relax_quotes hands over ` "1000"`, and the reader trims it', () => {
    const { rows } = readFixture('freeswitch-default.csv', { relaxQuotes: true });
    expect(rows[0]!.fields[12]).toBe(' "1000"');
    const results = runReader(new FreeswitchReader({ timezone: 'UTC' }), rows);
    expect([1, 2, 3].map((line) => recordAt(results, line).accountCode)).toEqual(['1000', '1000', null]);
  });

  it('default: with neither ltrim nor relax_quotes, csv-parse skips every row (twice per line)', () => {
    const { rows, unreadable } = readFixture('freeswitch-default.csv', {});
    expect(rows).toEqual([]);
    expect(unreadable.map((u) => u.line)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('takes the access numbers from the options', () => {
    // *98 is neither an access number nor a feature code here: an ordinary answered call.
    expect(outcomesByLine(readFreeswitch('freeswitch-example.csv', { voicemailNumbers: ['vmain'], featureCodes: [] }))[6]).toBe('counted 90');
  });
});

describe('voicemail deposit: the A-leg and its loopback leg (cdr-formats §2)', () => {
  it('marks both rows as a deposit, whichever comes first', () => {
    const results = readFreeswitch('freeswitch-voicemail-deposit.csv');
    expect(outcomesByLine(results)).toEqual({
      1: 'voicemail-deposit',
      2: 'voicemail-deposit', // A-leg first, then the loopback leg
      3: 'voicemail-deposit',
      4: 'voicemail-deposit', // loopback leg first
      5: 'counted 240', // bridged to a phone: no voicemail leg ever names it
    });
    expect(recordAt(results, 1).billableSeconds).toBe(45); // kept, with the time spent in voicemail
  });

  it('treats the voicemail leg as a deposit even if it carried an answer stamp, and without a uuid', () => {
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    const results = [...reader.push(leg({ destination_number: 'voicemail', uuid: '' }), 1, 'row'), ...reader.flush()];
    expect(outcomesByLine(results)).toEqual({ 1: 'voicemail-deposit' });
  });

  it('does not hold unanswered A-legs, nor answered rows without a uuid', () => {
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    expect(outcomesByLine(reader.push(leg({ ...bridgedTo('vm-1'), answer_stamp: '', billsec: '0' }), 1, 'row'))).toEqual({ 1: 'unanswered' });
    expect(outcomesByLine(reader.push(leg({ uuid: '' }), 2, 'row'))).toEqual({ 2: 'counted 60' });
    expect(reader.pending.held).toBe(0);
  });

  it('holds an answered row bridged to nothing as a possible B-leg (legs=ab), counted when no A-leg names it', () => {
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    expect(reader.push(leg(), 1, 'row')).toEqual([]);
    expect(reader.pending.held).toBe(1);
    expect(outcomesByLine(reader.flush())).toEqual({ 1: 'counted 60' });
  });
});

describe('pairing window for A-legs', () => {
  const unrelated = (n: number): string[][] => Array.from({ length: n }, () => leg({ answer_stamp: '', billsec: '0' }));
  const pushAll = (reader: FreeswitchReader, rows: string[][]): ReadResult[][] => rows.map((fields, i) => reader.push(fields, i + 1, 'row'));

  it('pairs a voicemail leg arriving later within the window', () => {
    const pushed = pushAll(new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 }), [leg(bridgedTo('vm-1')), ...unrelated(9), leg(voicemailLeg('vm-1'))]);
    expect(pushed[0]).toEqual([]);
    expect(outcomesByLine(pushed[10]!)).toEqual({ 1: 'voicemail-deposit', 11: 'voicemail-deposit' });
  });

  it('counts an A-leg once the window passes without its voicemail leg', () => {
    const reader = new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 });
    const pushed = pushAll(reader, [leg(bridgedTo('vm-1')), ...unrelated(10), leg(voicemailLeg('vm-1'))]);
    expect(outcomesByLine(pushed[11]!)).toEqual({ 1: 'counted 60', 12: 'voicemail-deposit' });
    expect(reader.flush()).toEqual([]);
  });

  it('keeps memory bounded by the window, not the file', () => {
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    let most = { remembered: 0, held: 0 };
    let released = 0;
    for (let i = 1; i <= 20_000; i++) {
      const fields = i % 2 === 0 ? leg(bridgedTo(`b-${i}`)) : leg(voicemailLeg(`vm-${i}`));
      released += reader.push(fields, i, 'row').length;
      const { remembered, held } = reader.pending;
      most = { remembered: Math.max(most.remembered, remembered), held: Math.max(most.held, held) };
    }
    // 2,500 voicemail legs' uuids in the window, and the end-second keys of their one caller.
    expect(most.remembered).toBeLessThanOrEqual(2501 + 3);
    expect(most.held).toBeLessThanOrEqual(2501);
    expect(released + reader.flush().length).toBe(20_000);
  });
});

describe('bad rows (DESIGN, "Bad rows")', () => {
  const TIME = 'a time like 2026-10-05 14:30:00';

  it('rejects each bad row with a reason naming the value; good rows still land', () => {
    const { rows, unreadable } = readFixture('freeswitch-bad-rows.csv', { ltrim: true });
    expect(outcomesByLine(runReader(new FreeswitchReader({ timezone: 'UTC' }), rows))).toEqual({
      // 1: a quote inside caller_id_name (values are not escaped): csv-parse skips it (below)
      2: 'rejected: wrong number of columns: 14 (expected 15 for the example template or 13 for the built-in default template)',
      3: `rejected: start time "13/10/2026 09:20" is not ${TIME}`,
      4: 'rejected: billsec "" is not a whole number of seconds ≥ 0',
      5: 'rejected: billsec 65 is greater than duration 64',
      6: 'counted 60',
    });
    // Reported twice for one line under the importer's options: its rejects would list line 1 twice.
    expect(unreadable).toEqual([
      { line: 1, code: 'CSV_INVALID_CLOSING_QUOTE' },
      { line: 1, code: 'CSV_INVALID_CLOSING_QUOTE' },
    ]);
  });

  it('with relax_quotes the row with an unescaped quote in the name is read and counted', () => {
    const { rows, unreadable } = readFixture('freeswitch-bad-rows.csv', { ltrim: true, relaxQuotes: true });
    expect(unreadable).toEqual([]);
    const results = runReader(new FreeswitchReader({ timezone: 'UTC' }), rows);
    expect(outcomesByLine(results)[1]).toBe('counted 60');
    expect(recordAt(results, 1).callingNumber).toBe('1003');
  });

  it('rejects end before start', () => {
    const results = new FreeswitchReader({ timezone: 'UTC' }).push(leg({ end_stamp: '2026-10-05 08:59:59' }), 7, 'row');
    expect(results).toEqual([{ ok: false, line: 7, raw: 'row', reason: 'end 2026-10-05 08:59:59 is before start 2026-10-05 09:00:00' }]);
  });
});

describe('voicemail with legs=a, as vanilla FreeSWITCH writes it (issue 14)', () => {
  // conf/vanilla cdr_csv.conf.xml: default-template=example, legs=a. The loopback leg the A-leg
  // was bridged to (its bleg_uuid) is a B-leg and never written; the loopback's other half, which
  // runs the voicemail application, is written as an A-leg of its own under its own uuid.
  it('finds the A-leg that ended in voicemail by caller and time, in either order, and counts the rest', () => {
    const results = readFreeswitch('freeswitch-voicemail-legs-a.csv');
    expect(outcomesByLine(results)).toEqual({
      1: 'voicemail-deposit',
      2: 'voicemail-deposit', // the voicemail leg first, then its A-leg
      3: 'voicemail-deposit',
      4: 'voicemail-deposit', // the A-leg first; the voicemail leg's end stamp a second later
      5: 'voicemail-deposit',
      6: 'voicemail-deposit',
      7: 'counted 55', // the same caller's second call ending in the same second: the voicemail leg started before it
      8: 'counted 180',
      9: 'unanswered',
    });
  });

  it("no row names the A-leg's bleg_uuid: without the time rule it would count", () => {
    const { rows } = readFixture('freeswitch-voicemail-legs-a.csv', { ltrim: true });
    const uuids = new Set(rows.map((row) => row.fields[10]));
    expect(rows.filter((row) => row.fields[11] !== '' && uuids.has(row.fields[11]))).toEqual([]);
  });

  it('reads the built-in default template (13 columns) the same way', () => {
    const { rows } = readFixture('freeswitch-voicemail-legs-a.csv', { ltrim: true });
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    const results = runReader(
      reader,
      rows.map((row) => ({ ...row, fields: row.fields.slice(0, 13) })),
    );
    expect(outcomesByLine(results)).toMatchObject({ 2: 'voicemail-deposit', 3: 'voicemail-deposit', 5: 'voicemail-deposit', 7: 'counted 55', 8: 'counted 180' });
  });

  it('a voicemail leg of another caller, or ending at another time, does not take the A-leg', () => {
    const aLeg = leg({ ...bridgedTo('never-written'), caller_id_number: '1000', start_stamp: '2026-10-05 09:00:00', end_stamp: '2026-10-05 09:01:05' });
    const otherCaller = leg({ ...voicemailLeg('vm-x'), caller_id_number: '1009', start_stamp: '2026-10-05 09:00:30', end_stamp: '2026-10-05 09:01:05', duration: '35' });
    const otherEnd = leg({ ...voicemailLeg('vm-y'), caller_id_number: '1000', start_stamp: '2026-10-05 09:00:30', end_stamp: '2026-10-05 09:01:07', duration: '37' });
    const reader = new FreeswitchReader({ timezone: 'UTC' });
    const results = runReader(
      reader,
      [aLeg, otherCaller, otherEnd].map((fields, i) => ({ fields, line: i + 1, raw: `row ${i + 1}` })),
    );
    expect(outcomesByLine(results)).toEqual({ 1: 'counted 60', 2: 'voicemail-deposit', 3: 'voicemail-deposit' });
  });
});

describe('B-legs with legs=ab (issue 14)', () => {
  // legs=ab writes every channel: an A-leg's ${bleg_uuid} is its B-leg's ${uuid} (the originatee
  // profile's uuid, src/switch_channel.c); the B-leg row names no A-leg (it has no originatee, so
  // its own bleg_uuid is empty) and carries the same parties and billsec.
  it("keeps a bridged call's B-leg as b-leg, whichever leg is written first; the A-leg alone counts", () => {
    const results = readFreeswitch('freeswitch-legs-ab.csv');
    expect(outcomesByLine(results)).toEqual({
      1: 'b-leg',
      2: 'counted 300', // the B-leg written first, as when the callee hangs up
      3: 'counted 600',
      4: 'b-leg', // the A-leg first
      5: 'b-leg',
      6: 'unanswered',
      7: 'unanswered',
      8: 'counted 120', // another call's rows between them
      9: 'unanswered', // the phone that rang before voicemail took the call
      10: 'voicemail-deposit',
      11: 'voicemail-deposit',
      12: 'voicemail-deposit', // both loopback halves and the caller's A-leg
    });
    const counted = results.flatMap((r) => (r.ok && r.record.counted ? [r.record.billableSeconds] : []));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(1020);
  });

  it('reads the built-in default template (13 columns) the same way', () => {
    const { rows } = readFixture('freeswitch-legs-ab.csv', { ltrim: true });
    const results = runReader(
      new FreeswitchReader({ timezone: 'UTC' }),
      rows.map((row) => ({ ...row, fields: row.fields.slice(0, 13) })),
    );
    expect(outcomesByLine(results)).toMatchObject({ 1: 'b-leg', 2: 'counted 300', 4: 'b-leg', 5: 'b-leg', 8: 'counted 120', 12: 'voicemail-deposit' });
  });

  describe('within the pairing window', () => {
    const unrelated = (n: number): string[][] => Array.from({ length: n }, () => leg({ answer_stamp: '', billsec: '0' }));
    const pushAll = (reader: FreeswitchReader, rows: string[][]): ReadResult[][] => rows.map((fields, i) => reader.push(fields, i + 1, 'row'));
    const bLeg = leg({ uuid: 'b-1', accountcode: '' });
    const aLeg = leg(bridgedTo('b-1'));

    it('a B-leg written first waits for its A-leg, which then counts at once', () => {
      const pushed = pushAll(new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 }), [bLeg, ...unrelated(9), aLeg]);
      expect(pushed[0]).toEqual([]);
      expect(outcomesByLine(pushed[10]!)).toEqual({ 1: 'b-leg', 11: 'counted 60' });
    });

    it('a B-leg written after its A-leg decides both at once', () => {
      const reader = new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 });
      const pushed = pushAll(reader, [aLeg, ...unrelated(9), bLeg]);
      expect(outcomesByLine(pushed[10]!)).toEqual({ 1: 'counted 60', 11: 'b-leg' });
      expect(reader.pending).toEqual({ remembered: 0, held: 0 });
    });

    it('a B-leg written after its A-leg has left the window counts (the limit of pairing)', () => {
      const reader = new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 });
      const pushed = pushAll(reader, [aLeg, ...unrelated(10), bLeg]);
      expect(outcomesByLine(pushed[11]!)).toEqual({ 1: 'counted 60' });
      expect(outcomesByLine(reader.flush())).toEqual({ 12: 'counted 60' });
    });

    it('counts a B-leg whose A-leg comes after the window (the limit of pairing)', () => {
      const reader = new FreeswitchReader({ timezone: 'UTC', pairingWindow: 10 });
      const pushed = pushAll(reader, [bLeg, ...unrelated(10), aLeg]);
      expect(outcomesByLine(pushed[11]!)).toEqual({ 1: 'counted 60' });
      expect(outcomesByLine(reader.flush())).toEqual({ 12: 'counted 60' });
    });

    it('keeps memory bounded by the window on a legs=ab file', () => {
      const reader = new FreeswitchReader({ timezone: 'UTC' });
      let most = { remembered: 0, held: 0 };
      let released = 0;
      for (let i = 1; i <= 20_000; i++) {
        const call = Math.ceil(i / 2);
        const fields = i % 2 === 1 ? leg({ uuid: `b-${call}` }) : leg({ uuid: `a-${call}`, ...bridgedTo(`b-${call}`) });
        released += reader.push(fields, i, 'row').length;
        const { remembered, held } = reader.pending;
        most = { remembered: Math.max(most.remembered, remembered), held: Math.max(most.held, held) };
      }
      expect(most).toEqual({ remembered: 0, held: 1 }); // each B-leg until the next row, its A-leg, which counts at once
      expect(released).toBe(20_000);
    });
  });
});

describe('feature codes and menus (issue 14)', () => {
  it('an answered feature code is not a call; a menu reached through the IVR is retrieval', () => {
    expect(outcomesByLine(readFreeswitch('freeswitch-feature-codes.csv'))).toEqual({
      1: 'not-a-call', // *9664, the vanilla hold-music test
      2: 'counted 20', // 9196, the vanilla echo test: not a code until configured
      3: 'voicemail-retrieval', // the IVR transferred the caller to vmain: the A-leg's destination is the menu's
      4: 'counted 300',
      5: 'unanswered',
    });
  });

  it("takes the source's patterns, FreeSWITCH regular expressions included", () => {
    expect(outcomesByLine(readFreeswitch('freeswitch-feature-codes.csv', { featureCodes: ['^9196$', '_*XXXX'] }))).toMatchObject({ 1: 'not-a-call', 2: 'not-a-call' });
  });
});
