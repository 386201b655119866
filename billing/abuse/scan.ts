/**
 * The common ground of the detectors: a scanned day in the subscriber's zone, its month, and the
 * subscriber's answered calls as intervals. Days are local days: a call crossing midnight (or the
 * start of the month) counts in each day for the part it spent there, as a call crossing a month
 * boundary is split at it for billing (DESIGN, "period").
 */
import { DateTime } from 'luxon';
import { DaySchema, parseOrThrow } from '../validation';
import { assertTimeZone, periodBounds } from '../periods';
import { ABUSE_EVIDENCE_CALLS_MAX, type AbuseCall, type AbuseDetector, type AbuseEvidence, type Finding } from './types';

const MS_PER_SECOND = 1000;
const MS_PER_DAY = 86_400_000;

/** An answered call as an interval: [startMs, endMs), the end excluded. */
export interface AnsweredCall {
  callId: string;
  startMs: number;
  endMs: number;
}

export interface DayScan {
  subscriberId: string;
  day: string;
  timeZone: string;
  /** The local day, [dayStartMs, dayEndMs); 23, 24 or 25 hours long. */
  dayStartMs: number;
  dayEndMs: number;
  /** Where the day's billing month began in the zone. */
  monthStartMs: number;
  /** The counted calls, segments joined, in order of start then id. */
  calls: AnsweredCall[];
  /** The calls with answered time in the day, with that time, longest first. */
  dayCalls: { callId: string; ms: number }[];
  /** Their answered time in the day, whole seconds. */
  daySeconds: number;
}

/** The local day (YYYY-MM-DD) of an instant in the zone. */
export function dayOf(instantMs: number, timeZone: string): string {
  assertTimeZone(timeZone);
  return DateTime.fromMillis(instantMs, { zone: timeZone }).toFormat('yyyy-MM-dd');
}

/** The day after, as YYYY-MM-DD; plain calendar arithmetic, no zone involved. */
export function nextDay(day: string): string {
  return shiftDay(day, 1);
}

export function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / MS_PER_DAY);
}

/**
 * The local day in the zone as epoch ms, [startMs, endMs). Where midnight does not exist (a zone
 * that changes its clocks at midnight) the day starts at the first real instant.
 */
export function localDayBounds(day: string, timeZone: string): { startMs: number; endMs: number } {
  parseOrThrow(DaySchema, day, 'day');
  assertTimeZone(timeZone);
  const startOf = (d: string) => DateTime.fromISO(d, { zone: timeZone }).toMillis();
  return { startMs: startOf(day), endMs: startOf(nextDay(day)) };
}

/**
 * The calls a scan of the day needs: those overlapping [fromMs, toMs), the day's month to date.
 * An activity selects `started_at < toMs AND started_at + billable_seconds > fromMs`.
 */
export function scanWindow(day: string, timeZone: string): { fromMs: number; toMs: number } {
  const { endMs } = localDayBounds(day, timeZone);
  return { fromMs: periodBounds(day.slice(0, 7), timeZone).startMs, toMs: endMs };
}

/** The days before `day`, oldest first: the trailing window of the sudden-change detector. */
export function trailingDays(day: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => shiftDay(day, i - count));
}

/** Counted calls as intervals, the segments of one record key joined (they are contiguous). */
export function answeredCalls(calls: readonly AbuseCall[]): AnsweredCall[] {
  const byId = new Map<string, AnsweredCall>();
  for (const call of calls) {
    if (!call.counted) continue;
    if (!Number.isSafeInteger(call.answeredSeconds) || call.answeredSeconds < 0 || !Number.isFinite(call.startMs)) {
      throw new RangeError(`call ${call.callId}: answered seconds ${call.answeredSeconds} and start ${call.startMs} must be a whole number ≥ 0 and an instant in epoch ms`);
    }
    const endMs = call.startMs + call.answeredSeconds * MS_PER_SECOND;
    const seen = byId.get(call.callId);
    if (seen) {
      seen.startMs = Math.min(seen.startMs, call.startMs);
      seen.endMs = Math.max(seen.endMs, endMs);
    } else {
      byId.set(call.callId, { callId: call.callId, startMs: call.startMs, endMs });
    }
  }
  return [...byId.values()].sort(byStart);
}

function byStart(a: AnsweredCall, b: AnsweredCall): number {
  return a.startMs - b.startMs || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0);
}

/** Milliseconds of the call inside [fromMs, toMs). */
export function msWithin(call: AnsweredCall, fromMs: number, toMs: number): number {
  return Math.max(0, Math.min(call.endMs, toMs) - Math.max(call.startMs, fromMs));
}

/** The calls with answered time in [fromMs, toMs), with that time, longest first. */
export function callsWithin(calls: readonly AnsweredCall[], fromMs: number, toMs: number): { callId: string; ms: number }[] {
  const out: { callId: string; ms: number }[] = [];
  for (const call of calls) {
    const ms = msWithin(call, fromMs, toMs);
    if (ms > 0) out.push({ callId: call.callId, ms });
  }
  return out.sort((a, b) => b.ms - a.ms);
}

/**
 * Their answered time in whole seconds, a started second counted: for a whole-second bound T,
 * "more than T seconds" holds exactly when this is more than T, even for calls that began mid-second.
 */
export function totalSeconds(calls: readonly { ms: number }[]): number {
  return Math.ceil(calls.reduce((sum, call) => sum + call.ms, 0) / MS_PER_SECOND);
}

/**
 * Counted answered seconds of each local day, for the sudden-change baseline; the same rule as the
 * detectors use for the scanned day.
 */
export function answeredSecondsByDay(calls: readonly AbuseCall[], timeZone: string, days: readonly string[]): number[] {
  const answered = answeredCalls(calls);
  return days.map((day) => {
    const { startMs, endMs } = localDayBounds(day, timeZone);
    return totalSeconds(callsWithin(answered, startMs, endMs));
  });
}

export function prepareScan(input: { subscriberId: string; timeZone: string; day: string; calls: readonly AbuseCall[] }): DayScan {
  const { startMs, endMs } = localDayBounds(input.day, input.timeZone);
  const calls = answeredCalls(input.calls);
  const dayCalls = callsWithin(calls, startMs, endMs);
  return {
    subscriberId: input.subscriberId,
    day: input.day,
    timeZone: input.timeZone,
    dayStartMs: startMs,
    dayEndMs: endMs,
    monthStartMs: periodBounds(input.day.slice(0, 7), input.timeZone).startMs,
    calls,
    dayCalls,
    daySeconds: totalSeconds(dayCalls),
  };
}

export function findingKey(subscriberId: string, detector: AbuseDetector, day: string): string {
  return `${subscriberId}:${detector}:${day}`;
}

export function finding(scan: DayScan, detector: AbuseDetector, summary: string, evidence: Omit<AbuseEvidence, 'callIds' | 'callCount'>, callIds: readonly string[]): Finding {
  return {
    subscriberId: scan.subscriberId,
    detector,
    day: scan.day,
    key: findingKey(scan.subscriberId, detector, scan.day),
    summary,
    evidence: { ...evidence, callIds: callIds.slice(0, ABUSE_EVIDENCE_CALLS_MAX), callCount: callIds.length },
  };
}
