/**
 * Fast reading of switch time stamps ("YYYY-MM-DD HH:MM:SS", no zone: DESIGN, "Time") in a given
 * IANA zone. A million-row import cannot afford a full calendar computation per row, so the
 * zone's UTC offset is computed once per local hour and cached. In a repeated hour at the end of
 * daylight saving time the earlier instant is taken, as PostgreSQL and luxon do.
 */
import { DateTime } from 'luxon';
import { assertTimeZone } from './periods';

/** The number written by `length` digits from `at`, or -1 when one of them is not a digit. */
function digits(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i += 1) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Whether text has the shape "YYYY-MM-DD HH:MM:SS" (or a T between, or fractional seconds after); the digits are read after. */
function stampShape(text: string): boolean {
  if (text.length < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false;
  const separator = text.charCodeAt(10);
  if (separator !== 32 && separator !== 84) return false;
  return text.length === 19 || (text.charCodeAt(19) === 46 && text.length > 20 && digits(text, 20, text.length - 20) >= 0);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function utcOfEarlyYear(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return date.getTime();
}

export class LocalTimeReader {
  private readonly offsetByHour = new Map<number, number>();

  constructor(readonly zone: string) {
    assertTimeZone(zone);
  }

  private offsetAt(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    const local = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: this.zone });
    return local.isValid ? local.offset * 60_000 : 0;
  }

  /** Epoch ms of the local time stamp, or undefined when it is not a real time. */
  read(text: string): number | undefined {
    if (!stampShape(text)) return undefined;
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    // digits() gives -1 for a non-digit, which every lower bound below refuses
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
      return undefined;
    }
    // Date.UTC reads a year below 100 as 1900 + year: year 0001 would become 1901.
    const asIfUtc = year >= 100 ? Date.UTC(year, month - 1, day, hour, minute, second) : utcOfEarlyYear(year, month, day, hour, minute, second);
    if (this.zone === 'UTC') return asIfUtc;
    const hourKey = Math.floor(asIfUtc / 3_600_000);
    let offset = this.offsetByHour.get(hourKey);
    if (offset === undefined) {
      offset = this.offsetAt(year, month, day, hour, 0, 0);
      // An hour in which the offset changes at a half hour (Australia/Lord_Howe) is computed exactly.
      if (offset !== this.offsetAt(year, month, day, hour, 59, 59)) offset = Number.NaN;
      this.offsetByHour.set(hourKey, offset);
    }
    return Number.isNaN(offset) ? asIfUtc - this.offsetAt(year, month, day, hour, minute, second) : asIfUtc - offset;
  }
}
