/**
 * Billing periods: the calendar month in the subscriber's IANA time zone (DESIGN, "period").
 * A period is written "YYYY-MM". Instants are epoch milliseconds.
 */
import { DateTime, IANAZone } from 'luxon';

export type Period = string;

const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isValidPeriod(text: string): boolean {
  return PERIOD_PATTERN.test(text);
}

export function parsePeriod(text: string): { year: number; month: number } {
  const match = PERIOD_PATTERN.exec(text);
  if (!match) {
    throw new RangeError(`period "${text}" is not a month written YYYY-MM, e.g. 2026-10`);
  }
  return { year: Number(match[1]), month: Number(match[2]) };
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

export function assertTimeZone(zone: string): void {
  if (!isValidTimeZone(zone)) {
    throw new RangeError(`time zone "${zone}" is not an IANA time zone name such as Europe/Berlin or UTC`);
  }
}

// Month bounds are computed once per zone and month: an import splits a million calls.
const boundsCache = new Map<string, { startMs: number; endMs: number }>();

/** The period containing the instant, in the zone. */
export function periodOf(instantMs: number, zone: string): Period {
  const utc = new Date(instantMs);
  // Every zone is within a day of UTC, so the month is the UTC one or a neighbour.
  let period = `${String(utc.getUTCFullYear()).padStart(4, '0')}-${String(utc.getUTCMonth() + 1).padStart(2, '0')}`;
  const { startMs, endMs } = periodBounds(period, zone);
  if (instantMs < startMs) period = previousPeriod(period);
  else if (instantMs >= endMs) period = nextPeriod(period);
  return period;
}

/** Start (inclusive) and end (exclusive) of the period in the zone, as epoch ms. */
export function periodBounds(period: Period, zone: string): { startMs: number; endMs: number } {
  const key = `${zone}|${period}`;
  let bounds = boundsCache.get(key);
  if (!bounds) {
    assertTimeZone(zone);
    const { year, month } = parsePeriod(period);
    const start = DateTime.fromObject({ year, month, day: 1 }, { zone });
    bounds = { startMs: start.toMillis(), endMs: start.plus({ months: 1 }).toMillis() };
    if (boundsCache.size > 100_000) boundsCache.clear();
    boundsCache.set(key, bounds);
  }
  return bounds;
}

export function nextPeriod(period: Period): Period {
  return shiftPeriod(period, 1);
}

export function previousPeriod(period: Period): Period {
  return shiftPeriod(period, -1);
}

export function shiftPeriod(period: Period, months: number): Period {
  const { year, month } = parsePeriod(period);
  const index = year * 12 + (month - 1) + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** Negative when a is before b, zero when equal. "YYYY-MM" compares as text. */
export function comparePeriods(a: Period, b: Period): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every period from `from` to `to`, both included. */
export function periodsBetween(from: Period, to: Period): Period[] {
  const out: Period[] = [];
  for (let p = from; comparePeriods(p, to) <= 0; p = nextPeriod(p)) out.push(p);
  return out;
}

export interface CallSegment {
  period: Period;
  startMs: number;
  seconds: number;
}

/**
 * Splits an answered call at every month boundary it crosses in the zone (DESIGN, "period").
 * The segments' seconds always add up to the call's seconds.
 */
export function splitAtMonthBoundaries(startMs: number, seconds: number, zone: string): CallSegment[] {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`call seconds must be a whole number of 0 or more, got ${seconds}`);
  }
  const segments: CallSegment[] = [];
  let cursorMs = startMs;
  let remaining = seconds;
  for (;;) {
    const period = periodOf(cursorMs, zone);
    const { endMs } = periodBounds(period, zone);
    const secondsToBoundary = Math.ceil((endMs - cursorMs) / 1000);
    if (remaining <= secondsToBoundary) {
      segments.push({ period, startMs: cursorMs, seconds: remaining });
      return segments;
    }
    segments.push({ period, startMs: cursorMs, seconds: secondsToBoundary });
    remaining -= secondsToBoundary;
    cursorMs += secondsToBoundary * 1000;
  }
}

/**
 * Month lookups for many instants in one zone, as an import makes them: the bounds of the month
 * last found are kept, so instants in that month are placed with two comparisons.
 */
export class ZoneMonths {
  private period: Period = '';
  private startMs = Number.POSITIVE_INFINITY;
  private endMs = Number.NEGATIVE_INFINITY;

  constructor(readonly zone: string) {
    assertTimeZone(zone);
  }

  /** Same as periodOf(instantMs, zone). */
  periodOf(instantMs: number): Period {
    if (instantMs < this.startMs || instantMs >= this.endMs) {
      this.period = periodOf(instantMs, this.zone);
      ({ startMs: this.startMs, endMs: this.endMs } = periodBounds(this.period, this.zone));
    }
    return this.period;
  }

  /**
   * The month a call of `seconds` from `startMs` lies in when splitAtMonthBoundaries would give it
   * one segment, else undefined.
   */
  singleMonth(startMs: number, seconds: number): Period | undefined {
    const period = this.periodOf(startMs);
    return seconds <= Math.ceil((this.endMs - startMs) / 1000) ? period : undefined;
  }
}

/** Days in a period: 28 to 31. */
export function daysInPeriod(period: Period): number {
  const { year, month } = parsePeriod(period);
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The calendar day (YYYY-MM-DD) of an instant in the zone. */
export function localDay(instantMs: number, zone: string): string {
  assertTimeZone(zone);
  return DateTime.fromMillis(instantMs, { zone }).toFormat('yyyy-MM-dd');
}

/**
 * The days of service in a partial month (DESIGN, "partial months"), counted in the subscriber's
 * zone: from the service start when it falls in the period after the 1st, to the last day of
 * service (a termination's day, which counts) when it falls in the period; undefined for a whole
 * month. Days are given as YYYY-MM-DD in the subscriber's zone.
 */
export function partialMonth(period: Period, serviceStart: string, lastServiceDay?: string): { days: number; ofDays: number } | undefined {
  const ofDays = daysInPeriod(period);
  const first = serviceStart.slice(0, 7) === period ? Number(serviceStart.slice(8, 10)) : 1;
  const last = lastServiceDay !== undefined && lastServiceDay.slice(0, 7) === period ? Number(lastServiceDay.slice(8, 10)) : ofDays;
  if (first === 1 && last === ofDays) return undefined;
  return { days: Math.max(0, last - first + 1), ofDays };
}

/** The instant a calendar day (YYYY-MM-DD) begins in the zone, epoch ms. */
export function startOfDayMs(day: string, zone: string): number {
  assertTimeZone(zone);
  const start = DateTime.fromISO(day, { zone });
  if (!start.isValid) throw new RangeError(`day "${day}" is not a date written YYYY-MM-DD`);
  return start.toMillis();
}

/**
 * The month still open at an instant in the zone: during the close's grace period after a month
 * ends, that month (its invoice is not written yet); otherwise the month in progress.
 */
export function openPeriodAt(instantMs: number, zone: string, graceHours: number): Period {
  return periodOf(instantMs - graceHours * 3_600_000, zone);
}
