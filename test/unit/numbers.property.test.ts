/**
 * Property: every written form of one number normalises to the same E.164 in its country
 * (billing/numbers.ts), and E.164 normalises to itself in every country.
 */
import fc from 'fast-check';
import { getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import examples from 'libphonenumber-js/examples.mobile.json';
import { isE164, normalizeNumber } from '../../billing/numbers';

const COUNTRIES: CountryCode[] = ['US', 'CA', 'GB', 'DE', 'FR', 'IT', 'ES', 'NL', 'BE', 'CH', 'AT', 'SE', 'PL', 'AU', 'NZ', 'IN', 'BR', 'MX', 'JP', 'ZA'];
const SEPARATORS = [' ', '-', '.', '/'];

/** A mobile number of the country: its example with the last digits replaced, still possible. */
const numberArb = fc
  .record({ country: fc.constantFrom(...COUNTRIES), digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }) })
  .map(({ country, digits }) => {
    const nsn = getExampleNumber(country, examples)!.nationalNumber.slice(0, -3) + digits.join('');
    return { country, number: parsePhoneNumberFromString(nsn, country)! };
  })
  .filter(({ number }) => number.isPossible());

/** Separators put between digits at random, as people and switches write them. */
function spread(text: string, cuts: number[]): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    out += text[i];
    const cut = cuts[i % cuts.length]!;
    if (i > 0 && i < text.length - 1 && /\d/.test(text[i]!) && cut < SEPARATORS.length) out += SEPARATORS[cut];
  }
  return out;
}

describe('normalizeNumber (property)', () => {
  it('every written form of a number is its E.164 in its country', () => {
    fc.assert(
      fc.property(numberArb, fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 8 }), ({ country, number }, cuts) => {
        const e164 = number.number;
        const forms = [
          e164,
          `00${e164.slice(1)}`,
          number.formatInternational(),
          number.formatNational(),
          number.nationalNumber,
          spread(number.nationalNumber, cuts),
          spread(number.formatNational().replace(/\D/g, ''), cuts),
          spread(e164, cuts),
          `(${number.nationalNumber.slice(0, 3)}) ${number.nationalNumber.slice(3)}`,
        ];
        for (const form of forms) expect([form, normalizeNumber(form, country)]).toEqual([form, e164]);
      }),
      { numRuns: 300 },
    );
  });

  it('E.164 normalises to itself in any country', () => {
    fc.assert(
      fc.property(numberArb, fc.constantFrom(...COUNTRIES), ({ number }, other) => {
        expect(normalizeNumber(number.number, other)).toBe(number.number);
        // The directory takes E.164-shaped numbers as they are: they must be fixed points.
        const normal = normalizeNumber(number.formatInternational(), other);
        if (isE164(normal)) expect(normalizeNumber(normal, other)).toBe(normal);
        expect(normalizeNumber(normalizeNumber(number.formatNational(), other), other)).toBe(normalizeNumber(number.formatNational(), other));
      }),
      { numRuns: 300 },
    );
  });
});
