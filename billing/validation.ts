/**
 * Schemas for every input from outside (CLI flags, signals, files), defined once and used by the
 * CLI, the workflows and the importers. Messages name the bad value and say what is expected.
 */
import { z } from 'zod';
import { isValidPeriod, isValidTimeZone } from './periods';

export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

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

export const PhoneNumberSchema = z
  .string()
  .regex(/^\+?[0-9*#]{2,32}$/, 'must be a phone number or extension: digits, optionally a leading +, 2-32 characters');

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
  const result = schema.safeParse(payload);
  if (result.success) return undefined;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'payload';
  const value = issue.path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key as string] : undefined), payload);
  return `${signal} ${field} ${JSON.stringify(value) ?? 'missing'} ${issue.message}`;
}
