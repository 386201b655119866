import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { splitCsvLine } from '../../billing/cdr/csv-line';

describe('splitCsvLine', () => {
  test.each([
    ['"a","b",c', ['a', 'b', 'c']],
    ['"","1001",,12,"ANSWERED"', ['', '1001', '', '12', 'ANSWERED']],
    ['"""Alice Smith"" <1001>","x"', ['"Alice Smith" <1001>', 'x']],
    ['"Smith, Alice","y"', ['Smith, Alice', 'y']],
    ['a,b,', ['a', 'b', '']],
    ['', ['']],
    ['"a","b"\r', ['a', 'b']],
    ['"x", "1000"', ['x', '1000']], // FreeSWITCH default template: a space before the quote
  ])('%s', (line, fields) => {
    expect(splitCsvLine(line)).toEqual({ ok: true, fields });
  });

  test('an unclosed quote is reported with the field', () => {
    expect(splitCsvLine('"a","b,c')).toEqual({ ok: false, reason: 'unclosed quote in field 2' });
  });

  test('a lone quote inside a quoted field is an error, or text when quotes are relaxed', () => {
    const line = '"GRAHAM "J" SMITH","01632960555"';
    expect(splitCsvLine(line)).toEqual({ ok: false, reason: 'unescaped quote inside quoted field 1' });
    expect(splitCsvLine(line, true)).toEqual({ ok: true, fields: ['GRAHAM "J" SMITH', '01632960555'] });
  });

  test('agrees with csv-parse on any line csv-stringify writes (no line breaks inside fields)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', ';', '<', '>', '-', 'é') });
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 25 }), fc.boolean(), (fields, quoteAll) => {
        const line = stringify([fields], { quoted: quoteAll, record_delimiter: '' });
        const expected = parse(line, { relax_column_count: true })[0] ?? [''];
        expect(splitCsvLine(line)).toEqual({ ok: true, fields: expected });
      }),
      { numRuns: 2000 },
    );
  });
});
