/**
 * Dates a call can have (DESIGN, "Bad rows"): a record dated before the earliest date accepted
 * (default 2000-01-01) or more than a given number of hours after the import runs (default 24) is
 * a switch's clock or a file gone wrong, not a call to bill. It is rejected with its line and
 * reason like any unreadable row, so a year 0001, 1969, 2099 or 9999 never reaches a month.
 */
import type { CdrReader, ReadResult } from './types';

export interface CallDateBounds {
  /** The earliest day a call may start, YYYY-MM-DD, in UTC. */
  earliestDay: string;
  /** How far after `nowMs` a call may start, in hours. */
  maxFutureHours: number;
  nowMs: number;
}

/** A time as a person reads it in a rejects report: "0001-01-01 00:00:00 UTC". */
function shownUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, iso.indexOf('T'))} ${iso.slice(iso.indexOf('T') + 1, iso.indexOf('T') + 9)} UTC`;
}

/** Why a call starting at `startMs` cannot be billed, or undefined when its date is possible. */
export function callDateProblem(startMs: number, bounds: CallDateBounds): string | undefined {
  return dateProblem(startMs, bounds, earliestMsOf(bounds), latestMsOf(bounds));
}

function earliestMsOf(bounds: CallDateBounds): number {
  return Date.parse(`${bounds.earliestDay}T00:00:00Z`);
}

function latestMsOf(bounds: CallDateBounds): number {
  return bounds.nowMs + bounds.maxFutureHours * 3_600_000;
}

function dateProblem(startMs: number, bounds: CallDateBounds, earliestMs: number, latestMs: number): string | undefined {
  if (!(startMs >= earliestMs)) return `start ${shownUtc(startMs)} is before ${bounds.earliestDay}, the earliest date a call is accepted for (BILLING_IMPORT_EARLIEST)`;
  if (startMs > latestMs) {
    return `start ${shownUtc(startMs)} is more than ${bounds.maxFutureHours} h after the import (BILLING_IMPORT_MAX_FUTURE_HOURS)`;
  }
  return undefined;
}

/**
 * The reader's results, with every record dated outside the bounds turned into a rejected row.
 * The bounds are read once: parsing the earliest day for every record cost an import of a
 * million rows half a second (`npm run bench -- import`).
 */
export function withinCallDates(reader: CdrReader, bounds: CallDateBounds): CdrReader {
  const earliestMs = earliestMsOf(bounds);
  const latestMs = latestMsOf(bounds);
  const check = (results: ReadResult[]): ReadResult[] => {
    for (let i = 0; i < results.length; i += 1) {
      const result = results[i]!;
      if (!result.ok) continue;
      const problem = dateProblem(result.record.startMs, bounds, earliestMs, latestMs);
      if (problem !== undefined) results[i] = { ok: false, line: result.record.line, raw: result.record.raw, reason: problem };
    }
    return results;
  };
  return {
    push: (fields, line, raw) => check(reader.push(fields, line, raw)),
    flush: () => check(reader.flush()),
  };
}
