/** Telling a usage file's format from its name and first line: billing/cdr/detect.ts. */
import { detectFormat, scanCsvFields } from '../../billing/cdr/detect';
import { fixtureText } from '../helpers/cdr-rows';

const firstLine = (fixture: string): string => fixtureText(fixture).split('\n')[0]!;

describe('detectFormat', () => {
  it.each([
    ['asterisk-16.csv', 'asterisk'],
    ['asterisk-18.csv', 'asterisk'], // a comma inside the quoted clid is not a field
    ['asterisk-21.csv', 'asterisk'],
    ['asterisk11-voicemail.csv', 'asterisk'],
    ['freeswitch-example.csv', 'freeswitch'],
    ['freeswitch-default.csv', 'freeswitch'], // the last field is quoted after a space
    ['usage.csv', 'csv'],
    ['usage.jsonl', 'jsonl'],
    ['freeswitch-json-answered.cdr.json', 'freeswitch-json'], // mod_json_cdr: one document on one line
  ])('%s is %s', (fixture, format) => {
    expect(detectFormat(firstLine(fixture), fixture)).toBe(format);
  });

  it('takes .jsonl and .ndjson names as jsonl, and a first line that opens an object in any file', () => {
    expect(detectFormat('whatever', 'usage.JSONL')).toBe('jsonl');
    expect(detectFormat('whatever', 'usage.ndjson')).toBe('jsonl');
    // A file of mod_json_cdr documents is theirs whatever its name (`cat *.cdr.json > calls.jsonl`).
    expect(detectFormat(firstLine('freeswitch-json-unanswered.cdr.json'), 'calls.jsonl')).toBe('freeswitch-json');
    expect(detectFormat('  {"subscriber": "alice"}', 'usage.txt')).toBe('jsonl');
    expect(detectFormat('\uFEFF{"subscriber": "alice"}', 'usage.txt')).toBe('jsonl');
  });

  it('takes a header naming subscriber and answer_seconds as our csv, written any way', () => {
    expect(detectFormat('\uFEFF"Subscriber","Start","Answer_Seconds","Direction","Kind"\r', 'export.csv')).toBe('csv');
    expect(detectFormat('kind,answer_seconds,subscriber', 'export.csv')).toBe('csv');
  });

  it('takes 16 to 21 fields as Asterisk, whatever the quoting', () => {
    expect(detectFormat(Array(17).fill('"x"').join(','), 'Master.csv')).toBe('asterisk');
    expect(detectFormat(Array(20).fill('x').join(','), 'Master.csv')).toBe('asterisk');
  });

  it('says what it saw and to pass --format otherwise', () => {
    const options = 'pass --format asterisk|freeswitch|freeswitch-json|csv|jsonl';
    expect(detectFormat('a,b,c', 'x.csv')).toEqual({ error: expect.stringMatching(new RegExp(`^the first line has 3 fields; expected .*; ${options.replace(/\|/g, '\\|')}$`)) });
    expect(detectFormat(Array(15).fill('x').join(','), 'x.csv')).toEqual({ error: expect.stringContaining('the first line has 15 fields, not all of them quoted') });
    expect(detectFormat(Array(22).fill('"x"').join(','), 'x.csv')).toEqual({ error: expect.stringContaining('the first line has 22 fields') });
    expect(detectFormat('', 'x.csv')).toEqual({ error: expect.stringContaining('the first line is empty') });
    expect(detectFormat('one', 'x.csv')).toEqual({ error: expect.stringContaining('the first line has 1 field;') });
  });
});

describe('scanCsvFields', () => {
  it('counts fields honouring quotes, doubled quotes and empty unquoted fields', () => {
    expect(scanCsvFields('"a","b,c","""Smith, A"" <1001>"')).toEqual({ count: 3, allQuoted: true });
    expect(scanCsvFields('"a",,"c",5')).toEqual({ count: 4, allQuoted: false });
    expect(scanCsvFields('"a", "b"')).toEqual({ count: 2, allQuoted: true });
    expect(scanCsvFields('"a",')).toEqual({ count: 2, allQuoted: false });
    expect(scanCsvFields('"unclosed,quote')).toEqual({ count: 1, allQuoted: true });
  });
});
