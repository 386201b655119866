/**
 * The bounds of the abuse detectors (DESIGN, "abuse"; issue 7). They belong to a policy version,
 * like the billing rules in ../policy.ts, so a revision can tighten or loosen them. Every bound is
 * a whole number with its unit in its name; factors are whole percents, so no detector compares
 * floating-point numbers. Every detector fires strictly above its bound, except the hour count of
 * round-the-clock calling, which fires on reaching it ("calls in every hour of the day").
 */
import { z } from 'zod';

export interface AbuseThresholds {
  /** Excessive use: month-to-date answered time above this percent of the month's allowance. */
  excessiveUsePercent: number;
  /** Round-the-clock calling: answered minutes in one local day above this (1080 = 18 h). */
  roundTheClockMinutesPerDay: number;
  /**
   * Round-the-clock calling: an answered call in progress in this many hours of one local day.
   * On a day shorter than this (the spring daylight-saving change) every hour of that day is enough.
   */
  roundTheClockActiveHoursPerDay: number;
  /** Simultaneous calls: more answered calls in progress at one instant than this. */
  simultaneousCallsMax: number;
  /** Dialer pattern: an answered call shorter than this many seconds is a short call. */
  dialerShortCallSeconds: number;
  /** Dialer pattern: more short calls starting in one local day than this. */
  dialerShortCallsPerDay: number;
  /** Sudden change: a day's answered time above this percent of the trailing daily median... */
  suddenChangePercent: number;
  /** ...and above this many minutes, so that a quiet subscriber's ordinary busy day does not fire. */
  suddenChangeMinimumMinutesPerDay: number;
  /** Sudden change: how many days before the scanned day make the median. */
  suddenChangeTrailingDays: number;
  /** Sudden change: fewer days of history than this (a new subscriber) make no baseline: not checked. */
  suddenChangeMinimumHistoryDays: number;
  /** After support dismisses a finding, the same detector stays quiet for this subscriber this many days. */
  dismissMuteDays: number;
}

/**
 * The defaults of issue 7. The sudden-change floor: 2400 included minutes are 80 minutes a day on
 * average, and a legitimate heavy day (a conference, a family emergency) reaches a few times that;
 * 240 minutes (4 h, three average days) is where a day stops being merely busy. Without the floor
 * a subscriber with a 1-minute median would fire on a 6-minute day.
 */
export const DEFAULT_ABUSE_THRESHOLDS: AbuseThresholds = {
  excessiveUsePercent: 300,
  roundTheClockMinutesPerDay: 1080, // 18 h
  roundTheClockActiveHoursPerDay: 24,
  simultaneousCallsMax: 4,
  dialerShortCallSeconds: 10,
  dialerShortCallsPerDay: 200,
  suddenChangePercent: 500,
  suddenChangeMinimumMinutesPerDay: 240,
  suddenChangeTrailingDays: 30,
  suddenChangeMinimumHistoryDays: 7,
  dismissMuteDays: 30,
};

const wholeNumber = (min: number, max: number, unit: string) =>
  z
    .number({ error: `must be a whole number of ${unit}` })
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be at least ${min} ${unit}`)
    .max(max, `must be at most ${max} ${unit}`);

const MINUTES_IN_LONGEST_DAY = 25 * 60; // the day daylight saving time ends

export const AbuseThresholdsSchema: z.ZodType<AbuseThresholds> = z
  .object({
    excessiveUsePercent: wholeNumber(100, 100_000, 'percent'),
    roundTheClockMinutesPerDay: wholeNumber(1, MINUTES_IN_LONGEST_DAY, 'minutes'),
    roundTheClockActiveHoursPerDay: wholeNumber(1, 25, 'hours'),
    simultaneousCallsMax: wholeNumber(1, 10_000, 'calls'),
    dialerShortCallSeconds: wholeNumber(1, 3600, 'seconds'),
    dialerShortCallsPerDay: wholeNumber(1, 1_000_000, 'calls'),
    suddenChangePercent: wholeNumber(100, 100_000, 'percent'),
    suddenChangeMinimumMinutesPerDay: wholeNumber(0, MINUTES_IN_LONGEST_DAY, 'minutes'),
    suddenChangeTrailingDays: wholeNumber(1, 366, 'days'),
    suddenChangeMinimumHistoryDays: wholeNumber(1, 366, 'days'),
    dismissMuteDays: wholeNumber(0, 3660, 'days'),
  })
  .strict()
  .refine((t) => t.suddenChangeMinimumHistoryDays <= t.suddenChangeTrailingDays, {
    message: 'must not be more than suddenChangeTrailingDays: the baseline could never be complete',
    path: ['suddenChangeMinimumHistoryDays'],
  });

/** Thresholds from outside (a policy revision, a file): checked, with a message naming the bad field. */
export function parseAbuseThresholds(value: unknown): AbuseThresholds {
  const result = AbuseThresholdsSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join('.');
  if (name === '') throw new RangeError(`abuse thresholds ${issue.message}`);
  const given = (value as Record<string, unknown>)[String(issue.path[0])];
  throw new RangeError(`abuse threshold ${name} ${JSON.stringify(given) ?? 'missing'} ${issue.message}`);
}
