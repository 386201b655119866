/**
 * The Asterisk cdr_csv reader against hand-written fixtures (test/fixtures/cdr/README.md) built
 * from ../shared/cdr-formats.md §1, and the rules of DESIGN, "Usage import rules".
 */
import { AsteriskReader, asteriskLayout, ASTERISK_BASE_COLUMNS } from '../../billing/cdr/asterisk';
import type { ReadResult } from '../../billing/cdr/types';
import { outcomesByLine, readFixture, recordAt, runReader, type FixtureRow } from '../helpers/cdr-rows';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mo - 1, d, h, mi, s);

function readAsterisk(name: string, options: { timezone?: string; voicemailNumbers?: string[]; featureCodes?: string[]; columns?: string[] } = {}): ReadResult[] {
  const { rows, unreadable } = readFixture(name);
  expect(unreadable).toEqual([]);
  return runReader(new AsteriskReader({ timezone: 'UTC', ...options }), rows);
}

/** An 18-column row (the sample cdr.conf's loguniqueid + loguserfield) with the given values. */
const LAYOUT_18 = asteriskLayout(18) as string[];
const PLAIN_CALL: Record<string, string> = {
  accountcode: '',
  src: '1001',
  dst: '1002',
  dcontext: 'from-internal',
  clid: '"Alice Smith" <1001>',
  channel: 'SIP/1001-00000038',
  dstchannel: 'SIP/1002-00000039',
  lastapp: 'Dial',
  lastdata: 'SIP/1002,20,tr',
  start: '2026-10-05 09:00:00',
  answer: '2026-10-05 09:00:05',
  end: '2026-10-05 09:01:05',
  duration: '65',
  billsec: '60',
  disposition: 'ANSWERED',
  amaflags: 'DOCUMENTATION',
  uniqueid: '1791190800.1',
  userfield: '',
};
function asteriskRow(values: Record<string, string> = {}): string[] {
  const row: Record<string, string> = { ...PLAIN_CALL, ...values };
  return LAYOUT_18.map((column) => row[column]!);
}
const phoneDialling = (local: string): Record<string, string> => ({ dstchannel: `${local};1`, lastdata: 'Local/00441632960777@outbound-allroutes,300' });
const localHalf2 = (local: string): Record<string, string> => ({ channel: `${local};2`, dstchannel: 'PJSIP/trunk_1-00025a53', dst: '00441632960777' });
const LOCAL = 'Local/00441632960777@outbound-allroutes-0000000a';

/** Pushes rows numbered from 1, returning what each push gave (index = line - 1) and the flush. */
function pushAll(reader: AsteriskReader, rows: string[][]): { pushed: ReadResult[][]; flushed: ReadResult[] } {
  const pushed = rows.map((fields, i) => reader.push(fields, i + 1, fields.join(',')));
  return { pushed, flushed: reader.flush() };
}

describe('asteriskLayout', () => {
  it('recognises 16, 18, 19 and 21 columns by count (cdr-formats §1)', () => {
    expect(asteriskLayout(16)).toEqual([...ASTERISK_BASE_COLUMNS]);
    expect(asteriskLayout(18)).toEqual([...ASTERISK_BASE_COLUMNS, 'uniqueid', 'userfield']);
    expect(asteriskLayout(19)).toEqual([...ASTERISK_BASE_COLUMNS, 'peeraccount', 'linkedid', 'sequence']);
    expect(asteriskLayout(21)).toEqual([...ASTERISK_BASE_COLUMNS, 'uniqueid', 'userfield', 'peeraccount', 'linkedid', 'sequence']);
  });

  it('rejects counts that fit no layout', () => {
    expect(asteriskLayout(22)).toEqual({ error: 'wrong number of columns: 22 (expected 16, 18, 19 or 21, or pass --columns)' });
    expect(asteriskLayout(15)).toEqual({ error: 'wrong number of columns: 15 (expected 16, 18, 19 or 21, or pass --columns)' });
  });

  it('asks for --columns when 17 or 20 columns leave uniqueid/userfield ambiguous', () => {
    expect(asteriskLayout(17)).toEqual({ error: expect.stringMatching(/^wrong number of columns: 17 \(expected 16, 18, 19 or 21, or pass --columns: .*--columns uniqueid\)$/) });
    expect(asteriskLayout(20)).toEqual({ error: expect.stringContaining('--columns uniqueid,peeraccount,linkedid,sequence') });
    expect(asteriskLayout(17, ['uniqueid'])).toEqual([...ASTERISK_BASE_COLUMNS, 'uniqueid']);
    expect(asteriskLayout(17, ['userfield'])).toEqual([...ASTERISK_BASE_COLUMNS, 'userfield']);
    expect(asteriskLayout(20, ['userfield', 'peeraccount', 'linkedid', 'sequence'])).toEqual([...ASTERISK_BASE_COLUMNS, 'userfield', 'peeraccount', 'linkedid', 'sequence']);
  });

  it('checks --columns against the count and the order cdr_csv writes them in', () => {
    expect(asteriskLayout(18, ['uniqueid'])).toEqual({ error: 'wrong number of columns: 18 (expected 17 for --columns uniqueid)' });
    expect(asteriskLayout(16, [])).toEqual([...ASTERISK_BASE_COLUMNS]);
    expect(asteriskLayout(18, ['userfield', 'uniqueid'])).toEqual({ error: expect.stringContaining('out of order') });
    expect(asteriskLayout(18, ['uniqueid', 'uniqueid'])).toEqual({ error: expect.stringContaining('repeats') });
    expect(asteriskLayout(17, ['linkedid'])).toEqual({ error: expect.stringContaining('peeraccount, linkedid and sequence are written together') });
    expect(asteriskLayout(17, ['callerid'])).toEqual({ error: expect.stringContaining('unknown Asterisk column "callerid"') });
  });
});

describe('AsteriskReader options', () => {
  it('refuses bad columns, windows and zones when built, not on the first row', () => {
    expect(() => new AsteriskReader({ timezone: 'UTC', columns: ['bogus'] })).toThrow(/unknown Asterisk column "bogus"/);
    expect(() => new AsteriskReader({ timezone: 'UTC', pairingWindow: -1 })).toThrow(/pairing window -1/);
    expect(() => new AsteriskReader({ timezone: 'Mars/Olympus_Mons' })).toThrow(/not an IANA time zone/);
  });

  it('reads 17-column rows when told which optional column is there', () => {
    const { rows } = readFixture('asterisk-18.csv');
    const withoutUserfield = rows.map((row) => ({ ...row, fields: row.fields.slice(0, 17) }));
    expect(outcomesByLine(runReader(new AsteriskReader({ timezone: 'UTC', columns: ['uniqueid'] }), withoutUserfield))).toEqual({
      1: 'counted 332',
      2: 'counted 120',
      3: 'unanswered',
      4: 'counted 2700',
    });
    expect(runReader(new AsteriskReader({ timezone: 'UTC' }), withoutUserfield)[0]).toMatchObject({ ok: false, reason: expect.stringContaining('wrong number of columns: 17') });
  });

  it('holds explicit columns to every row', () => {
    const { rows } = readFixture('asterisk-16.csv');
    const [result] = runReader(new AsteriskReader({ timezone: 'UTC', columns: ['uniqueid', 'userfield'] }), rows.slice(0, 1));
    expect(result).toEqual({ ok: false, line: 1, raw: rows[0]!.raw, reason: 'wrong number of columns: 16 (expected 18 for --columns uniqueid,userfield)' });
  });

  it('reads a file whose settings changed midway (16 then 21 columns), each row by its count', () => {
    const rows: FixtureRow[] = [
      ...readFixture('asterisk-16.csv').rows.slice(0, 1),
      ...readFixture('asterisk-21.csv')
        .rows.slice(0, 1)
        .map((r) => ({ ...r, line: 2 })),
    ];
    expect(outcomesByLine(runReader(new AsteriskReader({ timezone: 'UTC' }), rows))).toEqual({ 1: 'counted 332', 2: 'counted 332' });
  });
});

describe('column layouts', () => {
  it('16 columns: counts ANSWERED rows only, with billsec', () => {
    expect(outcomesByLine(readAsterisk('asterisk-16.csv'))).toEqual({
      1: 'counted 332',
      2: 'counted 120',
      3: 'unanswered',
      4: 'unanswered',
      5: 'counted 2700',
      6: 'unanswered',
    });
  });

  it('maps the fields of a row into the record', () => {
    const results = readAsterisk('asterisk-16.csv');
    const { rows } = readFixture('asterisk-16.csv');
    expect(recordAt(results, 1)).toEqual({
      format: 'asterisk',
      line: 1,
      raw: rows[0]!.raw,
      startMs: utc(2026, 10, 5, 9, 14, 2),
      answerMs: utc(2026, 10, 5, 9, 14, 9),
      endMs: utc(2026, 10, 5, 9, 19, 41),
      billableSeconds: 332,
      callingNumber: '1001',
      calledNumber: '900441632960123',
      accountCode: null,
      counted: true,
      notCountedReason: null,
    });
    expect(recordAt(results, 3)).toMatchObject({ answerMs: null, billableSeconds: 0 }); // the unquoted empty answer
    expect(recordAt(results, 5)).toMatchObject({ accountCode: '1003', callingNumber: '1003' });
  });

  it('18 columns (the sample cdr.conf): a comma inside the quoted clid does not shift the columns', () => {
    const results = readAsterisk('asterisk-18.csv');
    expect(outcomesByLine(results)).toEqual({ 1: 'counted 332', 2: 'counted 120', 3: 'unanswered', 4: 'counted 2700' });
    expect(recordAt(results, 2)).toMatchObject({ callingNumber: '01632960555', calledNumber: '01632960102' });
  });

  it('21 columns (newcdrcolumns), with the unquoted sequence last', () => {
    expect(outcomesByLine(readAsterisk('asterisk-21.csv'))).toEqual({ 1: 'counted 332', 2: 'counted 120', 3: 'unanswered' });
  });
});

describe('traps (cdr-formats §1)', () => {
  it('NO ANSWER and BUSY rows with billsec > 0 (Asterisk 12+) are not counted', () => {
    const results = readAsterisk('asterisk-billsec-no-answer.csv');
    expect(outcomesByLine(results)).toEqual({ 1: 'unanswered', 2: 'unanswered', 3: 'counted 95' });
    expect(recordAt(results, 1).billableSeconds).toBe(41);
    expect(recordAt(results, 2).billableSeconds).toBe(19);
  });

  it('Asterisk 11 deposit: one CDR with lastapp VoiceMail, NO ANSWER or ANSWERED, dstchannel the phone', () => {
    expect(outcomesByLine(readAsterisk('asterisk11-voicemail.csv'))).toEqual({ 1: 'voicemail-deposit', 2: 'voicemail-deposit', 3: 'counted 180' });
  });

  it('Asterisk 12+ deposit: the failed Dial CDR, then an ANSWERED VoiceMail CDR with empty dstchannel', () => {
    expect(outcomesByLine(readAsterisk('asterisk12-voicemail.csv'))).toEqual({
      1: 'unanswered',
      2: 'voicemail-deposit',
      3: 'unanswered',
      4: 'voicemail-deposit',
    });
  });

  it('retrieval: VoiceMailMain, or an access number when the menu ran another step last', () => {
    expect(outcomesByLine(readAsterisk('asterisk-voicemail-retrieval.csv'))).toEqual({
      1: 'voicemail-retrieval',
      2: 'voicemail-retrieval',
      3: 'voicemail-retrieval',
      4: 'unanswered',
    });
  });

  it('takes the access numbers from the options', () => {
    // *98 is no longer an access number nor a feature code, and its row ran Hangup last: an ordinary call.
    expect(outcomesByLine(readAsterisk('asterisk-voicemail-retrieval.csv', { voicemailNumbers: ['8500'], featureCodes: [] }))).toEqual({
      1: 'voicemail-retrieval',
      2: 'counted 60',
      3: 'voicemail-retrieval',
      4: 'unanswered',
    });
  });

  it('Local/ channels: the dialled pair counts once (either order), the originated call from its ;2 row', () => {
    const results = readAsterisk('asterisk-local-channels.csv');
    expect(outcomesByLine(results)).toEqual({
      1: 'counted 200',
      2: 'local-channel-duplicate', // phone row, then its ;2 half
      3: 'local-channel-duplicate',
      4: 'counted 61', // ;2 half written first, then the phone row
      5: 'local-channel-duplicate',
      6: 'counted 12', // originated: ;1 runs Playback, ;2 dials the trunk
      7: 'unanswered', // an unanswered ;2 row is decided at once
    });
    // The held ;2 rows come out when decided: line 3 with line 4, line 6 at the end of the file.
    expect(results.map((r) => (r.ok ? r.record.line : r.line))).toEqual([1, 2, 3, 4, 5, 7, 6]);
  });

  it('an internal call between two phones is one counted row, with both numbers for attribution', () => {
    const results = readAsterisk('asterisk-internal-call.csv');
    expect(outcomesByLine(results)).toEqual({ 1: 'counted 720' });
    expect(recordAt(results, 1)).toMatchObject({ callingNumber: '1001', calledNumber: '1002', accountCode: null });
  });

  it('a call across midnight at month end is read in the file zone, its time stamps unsplit', () => {
    const berlin = recordAt(readAsterisk('asterisk-month-end-midnight.csv', { timezone: 'Europe/Berlin' }), 1);
    expect(berlin).toMatchObject({
      startMs: utc(2026, 10, 31, 22, 50, 0),
      answerMs: utc(2026, 10, 31, 22, 50, 5),
      endMs: utc(2026, 10, 31, 23, 10, 5),
      billableSeconds: 1200,
      counted: true,
    });
    // New York is still on daylight time (UTC-4) until 02:00 on 1 November 2026.
    const newYork = recordAt(readAsterisk('asterisk-month-end-midnight.csv', { timezone: 'America/New_York' }), 1);
    expect(newYork).toMatchObject({ startMs: utc(2026, 11, 1, 3, 50, 0), endMs: utc(2026, 11, 1, 4, 10, 5) });
  });
});

describe('precedence: unanswered, then voicemail, then Local', () => {
  const outcome = (values: Record<string, string>): string => {
    const reader = new AsteriskReader({ timezone: 'UTC' });
    return outcomesByLine([...reader.push(asteriskRow(values), 1, 'row'), ...reader.flush()])[1]!;
  };

  it("a VoiceMail row is a deposit whatever its disposition (Asterisk 11 keeps the Dial's)", () => {
    expect(outcome({ lastapp: 'VoiceMail', disposition: 'BUSY' })).toBe('voicemail-deposit');
    expect(outcome({ lastapp: 'VoiceMail', ...localHalf2(LOCAL) })).toBe('voicemail-deposit');
  });

  it('otherwise unanswered comes first', () => {
    expect(outcome({ lastapp: 'VoiceMailMain', disposition: 'NO ANSWER' })).toBe('unanswered');
    expect(outcome({ dst: '*97', disposition: 'CONGESTION' })).toBe('unanswered');
    expect(outcome({ channel: `${LOCAL};1`, disposition: 'NO ANSWER' })).toBe('unanswered');
    expect(outcome({ disposition: 'UNKNOWN', billsec: '60' })).toBe('unanswered');
  });

  it('then retrieval, before Local', () => {
    expect(outcome({ channel: `${LOCAL};1`, lastapp: 'VoiceMailMain' })).toBe('voicemail-retrieval');
    expect(outcome({ ...localHalf2(LOCAL), dst: '*97' })).toBe('voicemail-retrieval');
    expect(outcome({ channel: `${LOCAL};1`, lastapp: 'Playback' })).toBe('local-channel-duplicate');
  });

  it('only exact Local/…;1 and ;2 names are Local halves', () => {
    expect(outcome({ channel: 'SIP/local-0000001;1' })).toBe('counted 60');
    expect(outcome({ channel: 'Local/1001@from-internal-0000000a;3' })).toBe('counted 60');
  });
});

describe('pairing window for Local/ ;2 rows', () => {
  const unrelated = (n: number): string[][] => Array.from({ length: n }, () => asteriskRow());

  it('a ;2 row whose ;1 partner arrives later in the window is not counted', () => {
    const reader = new AsteriskReader({ timezone: 'UTC', pairingWindow: 10 });
    const { pushed, flushed } = pushAll(reader, [asteriskRow(localHalf2(LOCAL)), ...unrelated(9), asteriskRow(phoneDialling(LOCAL))]);
    expect(pushed[0]).toEqual([]); // held
    expect(outcomesByLine(pushed[10]!)).toEqual({ 1: 'local-channel-duplicate', 11: 'counted 60' });
    expect(flushed).toEqual([]);
  });

  it('a ;2 row whose partner comes after the window is counted when the window passes', () => {
    const reader = new AsteriskReader({ timezone: 'UTC', pairingWindow: 10 });
    const { pushed } = pushAll(reader, [asteriskRow(localHalf2(LOCAL)), ...unrelated(10), asteriskRow(phoneDialling(LOCAL))]);
    expect(pushed.slice(0, 11).every((results) => !results.some((r) => r.ok && r.record.line === 1))).toBe(true);
    // The partner is too far: the memory bound wins, and the call is counted from both rows.
    expect(outcomesByLine(pushed[11]!)).toEqual({ 1: 'counted 60', 12: 'counted 60' });
  });

  it('a partner seen before the ;2 row counts within the window only', () => {
    const near = pushAll(new AsteriskReader({ timezone: 'UTC', pairingWindow: 10 }), [asteriskRow(phoneDialling(LOCAL)), ...unrelated(9), asteriskRow(localHalf2(LOCAL))]);
    expect(outcomesByLine(near.pushed[10]!)).toEqual({ 11: 'local-channel-duplicate' });
    const far = pushAll(new AsteriskReader({ timezone: 'UTC', pairingWindow: 10 }), [asteriskRow(phoneDialling(LOCAL)), ...unrelated(10), asteriskRow(localHalf2(LOCAL))]);
    expect(far.pushed[11]).toEqual([]);
    expect(outcomesByLine(far.flushed)).toEqual({ 12: 'counted 60' });
  });

  it('a ;2 row whose partner never comes is counted at flush', () => {
    const reader = new AsteriskReader({ timezone: 'UTC' });
    expect(reader.push(asteriskRow(localHalf2(LOCAL)), 1, 'row')).toEqual([]);
    expect(reader.push(asteriskRow(), 2, 'row').map((r) => r.ok && r.record.line)).toEqual([2]);
    expect(reader.pending).toEqual({ remembered: 0, held: 1 });
    expect(outcomesByLine(reader.flush())).toEqual({ 1: 'counted 60' });
    expect(reader.pending).toEqual({ remembered: 0, held: 0 });
  });

  it('releases a held row once 5000 rows (the default) have passed, long before flush', () => {
    const reader = new AsteriskReader({ timezone: 'UTC' });
    const { pushed, flushed } = pushAll(reader, [asteriskRow(localHalf2(LOCAL)), ...unrelated(20_000)]);
    const releasedAt = pushed.findIndex((results) => results.some((r) => r.ok && r.record.line === 1));
    expect(releasedAt + 1).toBe(5002); // the row after the 5000 that followed it
    expect(outcomeOfLine(pushed[releasedAt]!, 1)).toBe('counted 60');
    expect(flushed).toEqual([]);
  });

  it('keeps memory bounded by the window, not the file', () => {
    const reader = new AsteriskReader({ timezone: 'UTC', pairingWindow: 1000 });
    let most = { remembered: 0, held: 0 };
    let counted = 0;
    for (let i = 1; i <= 20_000; i++) {
      const local = `Local/${i}@outbound-allroutes-${i.toString(16).padStart(8, '0')}`;
      // Originated ;2 rows (held) and phone rows dialling other Local channels (remembered), interleaved.
      const fields = asteriskRow(i % 2 === 0 ? localHalf2(local) : phoneDialling(local));
      for (const result of reader.push(fields, i, 'row')) if (result.ok && result.record.counted) counted += 1;
      const { remembered, held } = reader.pending;
      most = { remembered: Math.max(most.remembered, remembered), held: Math.max(most.held, held) };
    }
    for (const result of reader.flush()) if (result.ok && result.record.counted) counted += 1;
    expect(most.remembered).toBeLessThanOrEqual(501);
    expect(most.held).toBeLessThanOrEqual(501);
    expect(counted).toBe(20_000); // every phone row, and every unpartnered ;2 row, once
    expect(reader.pending).toEqual({ remembered: 0, held: 0 });
  });
});

function outcomeOfLine(results: ReadResult[], line: number): string | undefined {
  return outcomesByLine(results)[line];
}

describe('bad rows (DESIGN, "Bad rows")', () => {
  const TIME = 'a time like 2026-10-05 14:30:00';

  it('rejects each bad row with its line and a reason naming the value; good rows still land', () => {
    const { rows, unreadable } = readFixture('asterisk-bad-rows.csv');
    const results = runReader(new AsteriskReader({ timezone: 'UTC' }), rows);
    expect(outcomesByLine(results)).toEqual({
      1: 'counted 60',
      2: expect.stringMatching(/^rejected: wrong number of columns: 17 \(expected 16, 18, 19 or 21, or pass --columns/),
      3: `rejected: start time "2026-10-32 09:20:00" is not ${TIME}`,
      4: `rejected: answer time "yesterday" is not ${TIME} (nor empty, for a call never answered)`,
      5: `rejected: end time "2026-10-11 25:41:05" is not ${TIME}`,
      6: 'rejected: duration "-5" is not a whole number of seconds ≥ 0',
      7: 'rejected: billsec "-60" is not a whole number of seconds ≥ 0',
      8: 'rejected: billsec "abc" is not a whole number of seconds ≥ 0',
      9: 'rejected: end 2026-10-11 10:19:05 is before start 2026-10-11 10:20:00',
      10: 'rejected: billsec 90 is greater than duration 65',
      11: 'rejected: disposition is empty (expected ANSWERED, NO ANSWER, BUSY, FAILED, ...)',
      // 12: broken quoting, never reaches the reader (below)
      13: 'counted 61', // billsec = duration + 1: initiatedseconds rounding, not an error
      14: 'counted 60',
      // 15: a quote opened on the last line and never closed (below)
    });
    const rejected = results.find((r) => !r.ok && r.line === 6);
    expect(rejected).toEqual({ ok: false, line: 6, raw: rows.find((r) => r.line === 6)!.raw, reason: expect.any(String) });
    // csv-parse skips what it cannot parse; the importer reports these as rejects with their line.
    expect(unreadable).toEqual([
      { line: 12, code: 'CSV_INVALID_CLOSING_QUOTE' },
      { line: 15, code: 'CSV_QUOTE_NOT_CLOSED' },
    ]);
  });

  it('with relax_quotes the unclosed quote swallows a comma, and the reader rejects the column count', () => {
    const { rows, unreadable } = readFixture('asterisk-bad-rows.csv', { relaxQuotes: true });
    const outcomes = outcomesByLine(runReader(new AsteriskReader({ timezone: 'UTC' }), rows));
    expect(outcomes[12]).toMatch(/^rejected: wrong number of columns: 17/);
    expect(outcomes[13]).toBe('counted 61');
    expect(unreadable).toEqual([{ line: 15, code: 'CSV_QUOTE_NOT_CLOSED' }]);
  });

  it('rejects an unparseable answer only when it is not empty, and huge or fractional seconds', () => {
    const reason = (values: Record<string, string>): string => outcomesByLine(new AsteriskReader({ timezone: 'UTC' }).push(asteriskRow(values), 1, 'row'))[1]!;
    expect(reason({ answer: '', billsec: '0', disposition: 'NO ANSWER' })).toBe('unanswered');
    expect(reason({ duration: '65.5' })).toBe('rejected: duration "65.5" is not a whole number of seconds ≥ 0');
    expect(reason({ billsec: '' })).toBe('rejected: billsec "" is not a whole number of seconds ≥ 0');
    expect(reason({ duration: '99999999999' })).toBe('rejected: duration "99999999999" is not a whole number of seconds ≥ 0');
    expect(reason({ start: '2026-02-30 10:00:00' })).toBe(`rejected: start time "2026-02-30 10:00:00" is not ${TIME}`);
  });
});

describe('feature codes and menus (issue 14: what real switches write)', () => {
  it('an answered feature code is not a call: *72 and *73 with Playback, *78; unanswered stays unanswered', () => {
    expect(outcomesByLine(readAsterisk('asterisk-feature-codes.csv'))).toEqual({
      1: 'not-a-call',
      2: 'not-a-call', // *72 forwarding set and *73 cleared, confirmed by Playback
      3: 'counted 12', // *72 with the number appended: not a default code (see the next test)
      4: 'counted 240', // *67 then a number: a real call with the caller ID hidden
      5: 'counted 95', // the IVR's voicemail menu, unknown until configured (see below)
      6: 'unanswered',
      7: 'not-a-call', // *78 do not disturb
      8: 'counted 14400', // #41 agent login, unknown until configured
    });
  });

  it("takes the source's patterns: _*72. for forwarding with a number, _#XX for agent codes", () => {
    const outcomes = outcomesByLine(readAsterisk('asterisk-feature-codes.csv', { featureCodes: ['_*7X', '_*72.', '_#XX'] }));
    expect(outcomes).toMatchObject({ 1: 'not-a-call', 2: 'not-a-call', 3: 'not-a-call', 4: 'counted 240', 7: 'not-a-call', 8: 'not-a-call' });
  });

  it('a voicemail menu reached through an IVR option is known by its extension and context', () => {
    // The menu ran VoiceMailMain, then Hangup: lastapp says Hangup, dst/dcontext are the menu's.
    const outcomes = outcomesByLine(readAsterisk('asterisk-feature-codes.csv', { voicemailNumbers: ['*97', '*98', 's@vm-menu'] }));
    expect(outcomes[5]).toBe('voicemail-retrieval');
    // Only in that context: an "s" extension elsewhere is not the menu.
    expect(outcomesByLine(readAsterisk('asterisk-feature-codes.csv', { voicemailNumbers: ['s@ivr-main'] }))[5]).toBe('counted 95');
  });

  it('refuses a pattern it cannot read, naming it', () => {
    expect(() => new AsteriskReader({ timezone: 'UTC', featureCodes: ['_*7Q'] })).toThrow('feature code "_*7Q" has "Q"');
    expect(() => new AsteriskReader({ timezone: 'UTC', featureCodes: ['^*72('] })).toThrow('feature code "^*72(" is not a regular expression');
    expect(() => new AsteriskReader({ timezone: 'UTC', voicemailNumbers: ['s@'] })).toThrow('voicemail number "s@" is empty or has an empty side');
  });
});
