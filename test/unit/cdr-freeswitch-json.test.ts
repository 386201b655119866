/**
 * The FreeSWITCH mod_json_cdr reader (billing/cdr/freeswitch-json.ts) against documents written
 * in FreeSWITCH 1.10's layout (test/fixtures/cdr/README.md), with the counting rules of the
 * mod_cdr_csv reader (DESIGN, "Usage import rules").
 */
import { FreeswitchJsonReader, readFreeswitchJsonCdr, urlDecodedValue } from '../../billing/cdr/freeswitch-json';
import { createReader } from '../../billing/cdr/readers';
import type { CdrReader, CdrRecord, ReadResult } from '../../billing/cdr/types';
import { fixtureText, outcomeOf, outcomesByLine } from '../helpers/cdr-rows';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mo - 1, d, h, mi, s);

type Options = { timezone?: string; voicemailNumbers?: string[]; featureCodes?: string[] };

function read(name: string, options: Options = {}): ReadResult {
  return readFreeswitchJsonCdr(fixtureText(name), { timezone: 'UTC', file: name, ...options });
}

function recordOf(result: ReadResult): CdrRecord {
  if (!result.ok) throw new Error(`rejected: ${result.reason}`);
  return result.record;
}

const outcome = (name: string, options: Options = {}): string => outcomeOf(read(name, options));

/** A fixture's document as an object, to change one thing and read it again. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const documentOf = (name: string): Json => JSON.parse(fixtureText(name)) as Json;
const currentProfile = (doc: Json): Json => doc.callflow[0].caller_profile as Json;
function readDocument(doc: Json, options: Options = {}): ReadResult {
  return readFreeswitchJsonCdr(JSON.stringify(doc), { timezone: 'UTC', file: 'built.cdr.json', ...options });
}

describe('documents as FreeSWITCH 1.10 writes them (vanilla dialplan)', () => {
  it('an answered call: parties from the current caller profile, times from the epochs, variables URL-decoded', () => {
    const text = fixtureText('freeswitch-json-answered.cdr.json');
    expect(recordOf(read('freeswitch-json-answered.cdr.json'))).toEqual({
      format: 'freeswitch-json',
      line: 1,
      raw: text.trimEnd(),
      startMs: utc(2026, 10, 12, 13, 0, 0),
      answerMs: utc(2026, 10, 12, 13, 0, 6),
      endMs: utc(2026, 10, 12, 13, 5, 6),
      billableSeconds: 300,
      callingNumber: '+14155550123',
      calledNumber: '1001', // callflow[0], after the transfer from `public`; callflow[1] has the DID 4155550101
      accountCode: 'Acme Corp:sales', // written Acme%20Corp%3Asales
      counted: true,
      notCountedReason: null,
    });
  });

  it('reads the epochs, which are UTC, whatever the zone given: the local stamps are not used', () => {
    const doc = documentOf('freeswitch-json-answered.cdr.json');
    expect(doc.variables.start_stamp).toBe('2026-10-12%2009%3A00%3A00'); // the switch's local time, New York
    expect(recordOf(read('freeswitch-json-answered.cdr.json', { timezone: 'Asia/Kolkata' })).startMs).toBe(utc(2026, 10, 12, 13, 0, 0));
  });

  it('keeps a B-leg (log-b-leg, the module default) without counting it: its A-leg carries the call', () => {
    expect(outcome('freeswitch-json-answered-b-leg.cdr.json')).toBe('b-leg');
    expect(recordOf(read('freeswitch-json-answered-b-leg.cdr.json'))).toMatchObject({ billableSeconds: 300, callingNumber: '+14155550123', calledNumber: '1001' });
  });

  it('an unanswered call: answer_epoch 0, no answer stamp, billsec 0', () => {
    expect(outcome('freeswitch-json-unanswered.cdr.json')).toBe('unanswered');
    expect(recordOf(read('freeswitch-json-unanswered.cdr.json'))).toMatchObject({
      answerMs: null,
      billableSeconds: 0,
      callingNumber: '1000',
      calledNumber: '1002',
      accountCode: '1000',
    });
  });

  it('a deposit with legs=a: the A-leg and the loopback leg each decided alone, without the other file', () => {
    expect(outcome('freeswitch-json-vm-legs-a-a-leg.cdr.json')).toBe('voicemail-deposit');
    expect(recordOf(read('freeswitch-json-vm-legs-a-a-leg.cdr.json')).billableSeconds).toBe(45); // kept, with the time in voicemail
    expect(outcome('freeswitch-json-vm-legs-a-loopback-b.cdr.json')).toBe('voicemail-deposit');
  });

  it('a deposit with legs=ab: the A-leg, the loopback B-leg and the loopback leg running voicemail', () => {
    for (const leg of ['a-leg', 'loopback-a', 'loopback-b']) {
      expect([leg, outcome(`freeswitch-json-vm-legs-ab-${leg}.cdr.json`)]).toEqual([leg, 'voicemail-deposit']);
    }
    expect(recordOf(read('freeswitch-json-vm-legs-ab-a-leg.cdr.json'))).toMatchObject({ callingNumber: '+14155550199', calledNumber: '1002', billableSeconds: 45 });
  });

  it('rejects a document cut short, naming the file: never dropped', () => {
    const text = fixtureText('freeswitch-json-broken-truncated.cdr.json');
    expect(read('freeswitch-json-broken-truncated.cdr.json')).toEqual({
      ok: false,
      line: 1,
      raw: text,
      reason: expect.stringMatching(/^freeswitch-json-broken-truncated\.cdr\.json: not a JSON document \(.+\): a file cut short, or not mod_json_cdr's$/),
    });
  });
});

describe('what does not count, on documents changed from the fixtures', () => {
  const answered = (): Json => documentOf('freeswitch-json-answered.cdr.json');
  const dialled = (destination: string, context = 'default'): Json => {
    const doc = answered();
    Object.assign(currentProfile(doc), { destination_number: destination, context });
    return doc;
  };

  it('an answered leg to a feature code is not a call, with the source`s patterns', () => {
    expect(outcomeOf(readDocument(dialled('*9664')))).toBe('not-a-call');
    expect(outcomeOf(readDocument(dialled('*9664'), { featureCodes: [] }))).toBe('counted 300');
    expect(outcomeOf(readDocument(dialled('9196'), { featureCodes: ['^9196$'] }))).toBe('not-a-call');
  });

  it('voicemail access numbers and menus are retrieval, from the source`s list', () => {
    expect(outcomeOf(readDocument(dialled('vmain')))).toBe('voicemail-retrieval');
    expect(outcomeOf(readDocument(dialled('vmain'), { voicemailNumbers: ['*98'] }))).toBe('counted 300');
    expect(outcomeOf(readDocument(dialled('s', 'vm-menu'), { voicemailNumbers: ['s@vm-menu'] }))).toBe('voicemail-retrieval');
  });

  it('an unanswered leg is unanswered first, even to voicemail access numbers', () => {
    const doc = dialled('*98');
    Object.assign(doc.variables, { answer_epoch: '0', billsec: '0' });
    delete doc.variables.answer_stamp;
    expect(outcomeOf(readDocument(doc))).toBe('unanswered');
  });

  it('an A-leg that ran the voicemail application itself: its last application says deposit or retrieval', () => {
    const doc = answered();
    delete currentProfile(doc).originatee;
    doc.variables.last_app = 'voicemail';
    doc.variables.last_arg = 'default%20192.168.1.10%201001';
    expect(outcomeOf(readDocument(doc))).toBe('voicemail-deposit');
    doc.variables.last_arg = 'check%20default%20192.168.1.10';
    expect(outcomeOf(readDocument(doc))).toBe('voicemail-retrieval');
  });

  it('an answered A-leg bridged to anything but the voicemail loopback counts', () => {
    const doc = documentOf('freeswitch-json-vm-legs-a-a-leg.cdr.json');
    currentProfile(doc).originatee.originatee_caller_profiles[0].destination_number = '1001';
    expect(outcomeOf(readDocument(doc))).toBe('counted 45');
  });

  it('looks a field up as ${name} does: a channel variable of that name first, then the caller profile', () => {
    const doc = answered();
    doc.variables.caller_id_number = '%2B14155550100';
    expect(recordOf(readDocument(doc)).callingNumber).toBe('+14155550100');
  });
});

describe('layouts FreeSWITCH also writes', () => {
  it('reads callflow as one object (before 1.6 each caller profile was a repeated key)', () => {
    const doc = documentOf('freeswitch-json-answered.cdr.json');
    doc.callflow = doc.callflow[0];
    expect(outcomeOf(readDocument(doc))).toBe('counted 300');
  });

  it('reads values written with encode-values=false', () => {
    const doc = documentOf('freeswitch-json-answered.cdr.json');
    doc.variables.accountcode = 'Acme Corp:sales';
    expect(recordOf(readDocument(doc)).accountCode).toBe('Acme Corp:sales');
  });

  it('reads the local stamps in the source`s zone when a document has no epochs', () => {
    const doc = documentOf('freeswitch-json-answered.cdr.json');
    for (const name of ['start_epoch', 'answer_epoch', 'end_epoch']) delete doc.variables[name];
    expect(recordOf(readDocument(doc, { timezone: 'America/New_York' }))).toMatchObject({
      startMs: utc(2026, 10, 12, 13, 0, 0),
      answerMs: utc(2026, 10, 12, 13, 0, 6),
      endMs: utc(2026, 10, 12, 13, 5, 6),
      billableSeconds: 300,
    });
  });
});

describe('bad documents: rejected with the file and the field', () => {
  const changed = (change: (doc: Json) => void): string => {
    const doc = documentOf('freeswitch-json-answered.cdr.json');
    change(doc);
    return JSON.stringify(doc);
  };
  it.each([
    ['empty', '', "not a JSON document (empty): a file cut short, or not mod_json_cdr's"],
    ['an array', '[1]', 'is an array, not a mod_json_cdr document (a JSON object)'],
    ['our own jsonl', '{"subscriber":"alice","start":"2026-10-05T09:00:00Z"}', 'has no "variables" object: not a mod_json_cdr document'],
    ['no callflow', changed((d) => delete d.callflow), 'has no callflow[0].caller_profile: not a mod_json_cdr document'],
    [
      'a start epoch not a number',
      changed((d) => {
        d.variables.start_epoch = 'yesterday';
      }),
      'variables.start_epoch "yesterday" is not whole seconds since 1970 (UTC)',
    ],
    [
      'a negative end epoch',
      changed((d) => {
        d.variables.end_epoch = '-5';
      }),
      'variables.end_epoch "-5" is not whole seconds since 1970 (UTC)',
    ],
    [
      'a start epoch 0',
      changed((d) => {
        d.variables.start_epoch = '0';
      }),
      'variables.start_epoch is 0: the leg has no start time',
    ],
    [
      'an end before the start',
      changed((d) => {
        d.variables.end_epoch = String(Number(d.variables.start_epoch) - 60);
      }),
      /^built\.cdr\.json: variables\.end_epoch \d+ is before variables\.start_epoch \d+$/,
    ],
    [
      'an answer after the end',
      changed((d) => {
        d.variables.answer_epoch = String(Number(d.variables.end_epoch) + 1);
      }),
      /^built\.cdr\.json: variables\.answer_epoch \d+ is not between start_epoch \d+ and end_epoch \d+ \(0 for a leg never answered\)$/,
    ],
    ['no billsec', changed((d) => delete d.variables.billsec), 'variables.billsec is missing'],
    [
      'billsec over duration',
      changed((d) => {
        d.variables.billsec = '400';
      }),
      'variables.billsec 400 is greater than variables.duration 306',
    ],
    [
      'a variable not a string',
      changed((d) => {
        d.variables.billsec = 300;
      }),
      'variables.billsec is 300, not a string',
    ],
    [
      'a profile field not a string',
      changed((d) => {
        d.callflow[0].caller_profile.destination_number = 1001;
      }),
      'callflow[0].caller_profile.destination_number is 1001, not a string',
    ],
    [
      'neither epochs nor stamps',
      changed((d) => {
        for (const n of ['start_epoch', 'end_epoch', 'start_stamp']) delete d.variables[n];
      }),
      'has neither variables.start_epoch nor variables.start_stamp: the leg has no start time',
    ],
  ])('%s', (_what, text, reason) => {
    const result = readFreeswitchJsonCdr(text, { timezone: 'UTC', file: 'built.cdr.json' });
    expect(result).toMatchObject({ ok: false, line: 1, raw: text });
    if (result.ok) return;
    if (reason instanceof RegExp) expect(result.reason).toMatch(reason);
    else expect(result.reason).toBe(`built.cdr.json: ${reason}`);
  });

  it('names no file when none is given (a line of a file the import reports by line)', () => {
    expect(readFreeswitchJsonCdr('[]', { timezone: 'UTC', line: 7 })).toMatchObject({ ok: false, line: 7, reason: 'is an array, not a mod_json_cdr document (a JSON object)' });
  });
});

describe('urlDecodedValue: as switch_url_decode', () => {
  it.each([
    ['%2B14155550101', '+14155550101'],
    ['Acme%20Corp%3Asales', 'Acme Corp:sales'],
    ['loopback/app%3Dvoicemail%3Adefault%20192.168.1.10%201001', 'loopback/app=voicemail:default 192.168.1.10 1001'],
    ['Ren%C3%A9e', 'Renée'], // UTF-8 bytes, each written %XX
    ['100%', '100%'], // a % without two hex digits after it is itself
    ['%zz1', '%zz1'],
    ['*98', '*98'],
  ])('%s is %s', (written, value) => {
    expect(urlDecodedValue(written)).toBe(value);
  });
});

describe('FreeswitchJsonReader: a file of documents, one a line (usage import --format freeswitch-json)', () => {
  const fixtures = [
    'freeswitch-json-answered.cdr.json',
    'freeswitch-json-answered-b-leg.cdr.json',
    'freeswitch-json-unanswered.cdr.json',
    'freeswitch-json-vm-legs-a-loopback-b.cdr.json',
    'freeswitch-json-vm-legs-a-a-leg.cdr.json', // the loopback leg first
    'freeswitch-json-vm-legs-ab-a-leg.cdr.json',
    'freeswitch-json-vm-legs-ab-loopback-a.cdr.json',
    'freeswitch-json-vm-legs-ab-loopback-b.cdr.json',
    'freeswitch-json-broken-truncated.cdr.json',
  ];

  it('decides every line as it comes, holds nothing back, and gives the same records as one file at a time', () => {
    const reader: CdrReader = new FreeswitchJsonReader({ timezone: 'UTC' });
    const results = fixtures.flatMap((name, i) => reader.push([fixtureText(name).trimEnd()], i + 1, fixtureText(name).trimEnd()));
    expect(reader.flush()).toEqual([]);
    expect(outcomesByLine(results)).toEqual({
      1: 'counted 300',
      2: 'b-leg',
      3: 'unanswered',
      4: 'voicemail-deposit',
      5: 'voicemail-deposit',
      6: 'voicemail-deposit',
      7: 'voicemail-deposit',
      8: 'voicemail-deposit',
      9: expect.stringMatching(/^rejected: not a JSON document/),
    });
    // The same document gives the same raw text, so the same record key, from a spool file or a line.
    expect(recordOf(results[0]!).raw).toBe(recordOf(read(fixtures[0]!)).raw);
  });

  it('is the reader the importer creates for --format freeswitch-json, with the source`s settings', () => {
    const reader = createReader('freeswitch-json', { timezone: 'UTC', featureCodes: ['^1001$'] });
    expect(reader).toBeInstanceOf(FreeswitchJsonReader);
    expect(outcomesByLine(reader.push([fixtureText('freeswitch-json-answered.cdr.json')], 4, ''))).toEqual({ 4: 'not-a-call' });
  });

  it('names the file in a rejection when the caller gives it as the second field (a spool collector)', () => {
    const reader: CdrReader = new FreeswitchJsonReader({ timezone: 'UTC' });
    const [result] = reader.push(['{"variables":', 'a_5d2e8f41.cdr.json'], 1, '');
    expect(result).toMatchObject({ ok: false, line: 1, reason: expect.stringMatching(/^a_5d2e8f41\.cdr\.json: not a JSON document/) });
  });
});
