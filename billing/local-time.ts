/**
 * Fast reading of switch time stamps ("YYYY-MM-DD HH:MM:SS", no zone: DESIGN, "Time") in a given
 * IANA zone. A million-row import cannot afford a full calendar computation per row, so the
 * zone's UTC offset is computed once per local hour and cached. In a repeated hour at the end of
 * daylight saving time the earlier instant is taken, as PostgreSQL and luxon do.
 */
import { DateTime } from 'luxon';
import { assertTimeZone } from './periods';

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/;

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
    const m = STAMP.exec(text);
    if (!m) return undefined;
    const year = +m[1]!, month = +m[2]!, day = +m[3]!, hour = +m[4]!, minute = +m[5]!, second = +m[6]!;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
    const asIfUtc = Date.UTC(year, month - 1, day, hour, minute, second);
    if (new Date(asIfUtc).getUTCDate() !== day) return undefined; // 2026-02-30
    const hourKey = Math.floor(asIfUtc / 3_600_000);
    if (this.zone === 'UTC') return asIfUtc;
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
