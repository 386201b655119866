/**
 * Schemas for every input from outside (CLI flags, signals, files), defined once and used by the
 * CLI, the workflows and the importers. Messages name the bad value and say what is expected.
 */
import { z } from 'zod';
import { isValidPeriod, isValidTimeZone, periodBounds } from './periods';

export const IdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const EmailSchema = z.string().email('must be an email address like name@example.com');

export const PeriodSchema = z.string().refine(isValidPeriod, 'must be a month written YYYY-MM, e.g. 2026-10');

export const TimeZoneSchema = z.string().refine(isValidTimeZone, 'must be an IANA time zone name such as Europe/Berlin or UTC');

export const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((text) => {
    const d = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
  }, 'is not a real calendar date');

/**
 * A number as a person writes it: `+14155550101`, `0014155550101`, `1-415-555-0101`,
 * `(415) 555-0101`, an extension `1001` or a code `*97`. Registration stores it normalised
 * (billing/numbers.ts, normalizeNumber with the subscriber's country).
 */
export const PhoneNumberSchema = z
  .string()
  .refine(
    (text) => text.length <= 64 && /^\+?[0-9*#]{2,32}$/.test(text.replace(/[\s\-./()]/g, '')),
    'must be a phone number or extension: 2-32 digits (or * and #), optionally a leading + and spaces, "-", ".", "/" or parentheses between them, e.g. +14155550101, (415) 555-0101, 1001',
  );

/** Throws a RangeError naming the field and the value when the input does not fit. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? `${field}.${issue.path.join('.')}` : field;
  throw new RangeError(`${where} ${JSON.stringify(value)} ${issue.message}`);
}

/**
 * What is wrong with a signal's payload, naming the field and its value (`approve minutes "x" must
 * be ...`), or undefined when it fits: the one line a reviewer reads in the status and the trail.
 */
export function payloadProblem(schema: z.ZodType, payload: unknown, signal: string): string | undefined {
  // JSON reads 1e400 as Infinity, which JSON writes back as null: name the number's real fault.
  const outOfRange = nonFiniteNumberAt(payload, []);
  if (outOfRange !== undefined) return `${signal} ${outOfRange.join('.') || 'payload'} ${OUT_OF_RANGE}`;
  const result = schema.safeParse(payload);
  if (result.success) return undefined;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'payload';
  const value = issue.path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key as string] : undefined), payload);
  return `${signal} ${field} ${shownValue(value)} ${issue.message}`;
}

const OUT_OF_RANGE = 'is a number out of range (such as 1e400, which no number can hold): give a whole number in range';

/** Where in a payload a number is infinite or NaN (a path of keys), or undefined when none is. */
function nonFiniteNumberAt(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const found = nonFiniteNumberAt(inner, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A value as a person reads it in a message: its JSON, except a number JSON cannot hold (1e400
 * is read as Infinity, and JSON writes it as null), which is named as out of range.
 */
export function shownValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return '(a number out of range)';
  return JSON.stringify(value) ?? 'missing';
}

/**
 * A service start (`subscribers add --since`) must be a day some policy version is in effect on:
 * a month before the first version can never be rated, and a cycle started there would retry its
 * close for ever. `firstPolicyDay` is the day the first version took effect (YYYY-MM-DD).
 */
export function serviceStartProblem(since: string, firstPolicyDay: string): string | undefined {
  if (since < firstPolicyDay) {
    return `--since ${since} is before ${firstPolicyDay}, when the first policy version took effect: no month before it can be billed; give the real service start, from ${firstPolicyDay}`;
  }
  return undefined;
}

/**
 * The months that can be closed (`billing close --period`): from the month the first policy
 * version took effect (nothing earlier can be rated: a close of 0000-01 would never finish) to the
 * last month that is over somewhere on Earth (it ends first at UTC+14). A month not over yet, let
 * alone one that has not begun, has nothing to close.
 */
export function closePeriodProblem(period: string, at: { nowMs: number; firstPolicyDay: string; graceHours: number }): string | undefined {
  const firstPeriod = at.firstPolicyDay.slice(0, 7);
  if (period < firstPeriod) {
    return `--period ${period} is before ${firstPeriod}, the first month a policy version is in effect (from ${at.firstPolicyDay}): there is nothing to close`;
  }
  // A month ends first at UTC+14 (Etc/GMT-14).
  const endsFirstMs = periodBounds(period, 'Etc/GMT-14').endMs;
  if (endsFirstMs > at.nowMs) {
    return `${period} is not over yet; it can be closed from ${new Date(endsFirstMs).toISOString()} (each subscriber is closed after the month ends in their zone plus ${at.graceHours} h)`;
  }
  return undefined;
}
