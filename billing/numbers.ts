/**
 * Phone numbers in any written form, made one (issue 14, "Numbers in any written form"): switches
 * and people write the same number as `4155550101`, `14155550101`, `+14155550101`,
 * `0014155550101`, `1-415-555-0101` or `(415) 555-0101`. Registration and attribution both go
 * through normalizeNumber, so a record matches its subscriber whichever form each side used.
 *
 * The rule, in order (libphonenumber-js, its length-based "possible" test; not "valid", which
 * would turn the fictional 555 numbers of tests and demos into something else):
 * 1. Drop spaces, `-`, `.`, `/`, `(` and `)`. What is left must be digits with an optional leading
 *    `+`; anything else (`*97`, `vmain`, `s`, `1001#`) is kept as written.
 * 2. Up to EXTENSION_MAX_DIGITS digits without `+` is an internal extension: kept as written.
 * 3. `+…` is international; `00…` is international too (the ITU prefix, which switches write
 *    even where the local one differs, e.g. 011 in North America).
 * 4. Otherwise the number is read in the default country (the source's, or the subscriber's at
 *    registration): its national form, with or without the trunk prefix (`1…`, `0…`), or its own
 *    international prefix (`011…` in the US).
 * 5. Failing that, digits that are a possible number once a `+` is put in front (E.164 written
 *    without the `+`, as many switches do).
 * 6. A number none of these make possible is kept as written.
 * The result is E.164 (`+14155550101`), which normalising again in any country gives back
 * unchanged, or the text as written (trimmed), which the same country gives back unchanged.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** The longest internal extension: longer digit strings are read as phone numbers. */
export const EXTENSION_MAX_DIGITS = 6;

/** The default country of numbers written without a country code, when nothing else says (BILLING_DEFAULT_COUNTRY). */
export const DEFAULT_COUNTRY = 'US';

/** Why `code` cannot be a default country, or undefined: an ISO 3166 alpha-2 code libphonenumber knows. */
export function countryProblem(code: string): string | undefined {
  if (/^[A-Z]{2}$/.test(code) && isSupportedCountry(code)) return undefined;
  return `country "${code}" is not a two-letter ISO 3166 country code with a telephone numbering plan, e.g. US, GB, DE, FR`;
}

/** The country code, checked (see countryProblem); throws a RangeError naming the value. */
export function checkCountry(code: string): CountryCode {
  const problem = countryProblem(code);
  if (problem !== undefined) throw new RangeError(problem);
  return code as CountryCode;
}

const FORMATTING = /[\s\-./()]/g;
const DIGITS = /^\+?[0-9]+$/;

function possibleE164(text: string, country?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(text, country === undefined ? undefined : { defaultCountry: country, extract: false });
  return parsed !== undefined && parsed.isPossible() ? parsed.number : undefined;
}

/** The number in E.164, or as written (trimmed) when it is an extension, a code or not a possible number. */
export function normalizeNumber(text: string, country: CountryCode): string {
  const written = text.trim();
  const cleaned = written.replace(FORMATTING, '');
  if (!DIGITS.test(cleaned)) return written;
  if (cleaned.charCodeAt(0) === 43 /* + */) return possibleE164(cleaned) ?? written;
  if (cleaned.length <= EXTENSION_MAX_DIGITS) return written;
  if (cleaned.startsWith('00')) {
    const international = possibleE164(`+${cleaned.slice(2)}`);
    if (international !== undefined) return international;
  }
  return possibleE164(cleaned, country) ?? possibleE164(`+${cleaned}`) ?? written;
}

/**
 * The last TAIL_DIGITS digits of a number however it is written, as an integer, or -1 when it has
 * fewer: two writings of one number share them, so a number whose tail no registered number has
 * cannot be anyone's and need not be normalised (libphonenumber takes some 10-40 µs a number,
 * which at 100,000 rows a second the import cannot spend on every caller from outside). Read
 * without allocating.
 */
export const TAIL_DIGITS = 7;
export function numberTail(text: string): number {
  let value = 0;
  let scale = 1;
  let digits = 0;
  for (let i = text.length - 1; i >= 0 && digits < TAIL_DIGITS; i -= 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) continue;
    value += digit * scale;
    scale *= 10;
    digits += 1;
  }
  return digits === TAIL_DIGITS ? value : -1;
}

/**
 * Whether text is written as E.164 (`+`, a digit 1-9, 7 to 15 digits in all): what registration
 * stores, taken as it is when the directory loads (normalizeNumber gives such a number back
 * unchanged; the property test checks it), so loading 10,000 subscribers parses nothing.
 */
export function isE164(text: string): boolean {
  const length = text.length;
  if (length < 8 || length > 16 || text.charCodeAt(0) !== 43 || text.charCodeAt(1) === 48) return false;
  for (let i = 1; i < length; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
  }
  return true;
}

/** normalizeNumber for one country, remembering the numbers it has seen (up to a bound). */
export class NumberNormalizer {
  private readonly seen = new Map<string, string>();

  constructor(
    readonly country: CountryCode,
    private readonly remember = 100_000,
  ) {}

  normalize(text: string): string {
    let normal = this.seen.get(text);
    if (normal === undefined) {
      normal = normalizeNumber(text, this.country);
      if (this.seen.size >= this.remember) this.seen.clear();
      this.seen.set(text, normal);
    }
    return normal;
  }
}
