/**
 * Numbers in any written form (billing/numbers.ts; issue 14): registration and attribution read
 * every writing of one number as one, extensions and codes as written.
 */
import { AsteriskReader } from '../../billing/cdr/asterisk';
import { directoryOf, partiesOf } from '../../billing/cdr/attribution';
import { countryProblem, isE164, normalizeNumber, numberTail } from '../../billing/numbers';
import { PhoneNumberSchema } from '../../billing/validation';
import { readFixture, runReader } from '../helpers/cdr-rows';

const FORMS = ['4155550101', '14155550101', '+14155550101', '0014155550101', '01114155550101', '1-415-555-0101', '(415) 555-0101', '+1 (415) 555-0101', ' 415.555.0101 '];

describe('normalizeNumber', () => {
  it.each(FORMS)('reads %j in the US as +14155550101', (written) => {
    expect(normalizeNumber(written, 'US')).toBe('+14155550101');
  });

  it('reads international forms whatever the default country', () => {
    for (const country of ['GB', 'DE', 'FR'] as const) {
      expect(normalizeNumber('+14155550101', country)).toBe('+14155550101');
      expect(normalizeNumber('0014155550101', country)).toBe('+14155550101');
      expect(normalizeNumber('+1 (415) 555-0101', country)).toBe('+14155550101');
    }
    expect(normalizeNumber('020 7946 0018', 'GB')).toBe('+442079460018');
    expect(normalizeNumber('0044 20 7946 0018', 'US')).toBe('+442079460018');
    // E.164 written without its +, too long to be a national number.
    expect(normalizeNumber('4915112345678', 'US')).toBe('+4915112345678');
  });

  it('keeps extensions, codes and what is not a possible number as written', () => {
    for (const written of ['1001', '100', '*97', '*72', 'vmain', 's', '1001#', '555-0101']) expect(normalizeNumber(written, 'US')).toBe(written);
    // A short number is an extension in every country, never +491001.
    expect(normalizeNumber('1001', 'DE')).toBe('1001');
    expect(normalizeNumber(' 1001 ', 'US')).toBe('1001');
  });

  it('checks the country', () => {
    expect(countryProblem('US')).toBeUndefined();
    expect(countryProblem('GB')).toBeUndefined();
    expect(countryProblem('XX')).toContain('country "XX" is not a two-letter ISO 3166 country code');
    expect(countryProblem('usa')).toContain('"usa"');
  });

  it('isE164: the stored form, taken as it is', () => {
    expect(['+14155550101', '+442079460018', '+4915112345678'].every(isE164)).toBe(true);
    expect(['14155550101', '+1 415 555 0101', '+0123456789', '+123', '*97', '+1234567890123456'].some(isE164)).toBe(false);
  });

  it('tails: two writings of one number share their last 7 digits; short ones have none', () => {
    expect(new Set(FORMS.map(numberTail))).toEqual(new Set([5550101]));
    expect(numberTail('+1 415 000-0001')).toBe(1);
    expect(numberTail('1001')).toBe(-1);
  });
});

describe('registration: any written form is accepted (it was refused with dashes)', () => {
  it.each([...FORMS.map((f) => f.trim()), '1001', '*97'])('accepts %j', (written) => {
    expect(PhoneNumberSchema.safeParse(written).success).toBe(true);
  });

  it.each(['', '1', 'call me', '+1 415 555 0101 ext 2', '1+415', '-'])('refuses %j', (written) => {
    expect(PhoneNumberSchema.safeParse(written).success).toBe(false);
  });
});

describe('attribution matches records in any written form (asterisk-number-forms.csv)', () => {
  const subscribers = [
    { id: 'alice', timezone: 'UTC', accountCode: null },
    { id: 'bob', timezone: 'UTC', accountCode: null },
  ];
  const records = (): ReturnType<typeof runReader> => runReader(new AsteriskReader({ timezone: 'UTC' }), readFixture('asterisk-number-forms.csv').rows);

  function whoseCalls(registered: { number: string; subscriberId: string }[]): Record<number, string> {
    const directory = directoryOf(subscribers, registered, { country: 'US' });
    const byLine: Record<number, string> = {};
    for (const result of records()) {
      if (!result.ok) throw new Error(result.reason);
      const { caller, callee } = partiesOf(result.record, directory);
      byLine[result.record.line] = `${caller?.subscriberId ?? '-'} → ${callee?.subscriberId ?? '-'}`;
    }
    return byLine;
  }

  const EXPECTED = {
    1: 'alice → -',
    2: 'alice → -',
    3: 'alice → -',
    4: 'alice → -',
    5: 'alice → -',
    6: 'alice → -',
    7: '- → alice', // a call from London to 4155550101
    8: '- → bob', // extension 1001 (nobody's) calls extension 1002 (bob's)
  };

  it('with the numbers registered as subscribers add stores them (E.164, extensions as written)', () => {
    const registered = [
      { number: normalizeNumber('(415) 555-0101', 'US'), subscriberId: 'alice' },
      { number: normalizeNumber('1002', 'US'), subscriberId: 'bob' },
    ];
    expect(registered.map((r) => r.number)).toEqual(['+14155550101', '1002']);
    expect(whoseCalls(registered)).toEqual(EXPECTED);
  });

  it('with a number stored before normalisation, as written then', () => {
    expect(
      whoseCalls([
        { number: '14155550101', subscriberId: 'alice' },
        { number: '1002', subscriberId: 'bob' },
      ]),
    ).toEqual(EXPECTED);
  });

  it("in another default country, national forms are that country's", () => {
    const directory = directoryOf(subscribers, [{ number: '+14155550101', subscriberId: 'alice' }], { country: 'GB' });
    expect(directory.byNumber('+14155550101')?.subscriberId).toBe('alice');
    expect(directory.byNumber('0014155550101')?.subscriberId).toBe('alice');
    expect(directory.byNumber('4155550101')).toBeUndefined(); // +444155550101 in the UK
  });
});
