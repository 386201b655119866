/**
 * Whose usage a record is (DESIGN, "Who"): the calling side is the subscriber whose account code
 * the row carries (when set and known), otherwise the owner of the calling number, and it is
 * their outgoing call; the owner of the called number has an incoming call. A call between two
 * subscribers counts for both, once each. Our own formats name the subscriber outright.
 */
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_COUNTRY, isE164, NumberNormalizer, numberTail } from '../numbers';
import { splitAtMonthBoundaries, ZoneMonths, type CallSegment } from '../periods';
import type { CdrRecord } from './types';

/** A subscriber as attribution sees them: who, and the calendar their months follow. */
export interface Party {
  subscriberId: string;
  timezone: string;
  /** Month lookups in the subscriber's zone, shared by every subscriber of that zone. */
  months: ZoneMonths;
}

export interface Directory {
  subscriber(subscriberId: string): Party | undefined;
  byAccountCode(code: string): Party | undefined;
  /** The owner of a number written in any form (billing/numbers.ts), read in the directory's country. */
  byNumber(number: string): Party | undefined;
}

/**
 * Parties from subscriber rows, one ZoneMonths per zone. Registered numbers and the numbers
 * looked up are both normalised (billing/numbers.ts) in `country`, the default country of the
 * records' source; registered numbers are stored normalised already, and normalising them again
 * here keeps rows written before that rule matching.
 */
export function directoryOf(
  subscribers: Iterable<{ id: string; timezone: string; accountCode: string | null }>,
  numbers: Iterable<{ number: string; subscriberId: string }>,
  options: { country?: CountryCode } = {},
): Directory & { subscriberCount: number } {
  const zones = new Map<string, ZoneMonths>();
  const byId = new Map<string, Party>();
  const byAccountCode = new Map<string, Party>();
  for (const s of subscribers) {
    let months = zones.get(s.timezone);
    if (!months) zones.set(s.timezone, (months = new ZoneMonths(s.timezone)));
    const party: Party = { subscriberId: s.id, timezone: s.timezone, months };
    byId.set(s.id, party);
    if (s.accountCode) byAccountCode.set(s.accountCode, party);
  }
  const normalizer = new NumberNormalizer(options.country ?? DEFAULT_COUNTRY);
  const byNumber = new Map<string, Party>();
  const tails = new Set<number>();
  for (const n of numbers) {
    const party = byId.get(n.subscriberId);
    if (!party) continue;
    const normal = isE164(n.number) ? n.number : normalizer.normalize(n.number);
    byNumber.set(normal, party);
    const tail = numberTail(normal);
    if (tail >= 0) tails.add(tail);
  }
  const lookUp = (number: string): Party | undefined => {
    // Already in the registered form (E.164, or an extension as written): no parsing.
    const exact = byNumber.get(number);
    if (exact !== undefined) return exact;
    // A number no registered one ends like cannot be anyone's (most callers from outside).
    const tail = numberTail(number);
    if (tail < 0 || !tails.has(tail)) return undefined;
    return byNumber.get(normalizer.normalize(number));
  };
  return {
    subscriberCount: byId.size,
    subscriber: (id) => byId.get(id),
    byAccountCode: (code) => byAccountCode.get(code),
    byNumber: lookUp,
  };
}

export interface Parties {
  /** Whose outgoing call it is. */
  caller: Party | undefined;
  /** Whose incoming call it is; never the caller too. */
  callee: Party | undefined;
}

export function partiesOf(record: CdrRecord, directory: Directory): Parties {
  if (record.subscriberId !== undefined) {
    const named = directory.subscriber(record.subscriberId);
    return record.direction === 'incoming' ? { caller: undefined, callee: named } : { caller: named, callee: undefined };
  }
  const caller =
    (record.accountCode !== null ? directory.byAccountCode(record.accountCode) : undefined) ??
    (record.callingNumber !== null ? directory.byNumber(record.callingNumber) : undefined);
  const callee = record.calledNumber !== null ? directory.byNumber(record.calledNumber) : undefined;
  return { caller, callee: callee === caller ? undefined : callee };
}

export interface Attribution {
  subscriberId: string;
  direction: 'outgoing' | 'incoming';
  party: Party;
}

/** The record's sides, caller first. */
export function attribute(record: CdrRecord, directory: Directory): Attribution[] {
  const { caller, callee } = partiesOf(record, directory);
  const sides: Attribution[] = [];
  if (caller !== undefined) sides.push({ subscriberId: caller.subscriberId, direction: 'outgoing', party: caller });
  if (callee !== undefined) sides.push({ subscriberId: callee.subscriberId, direction: 'incoming', party: callee });
  return sides;
}

/** When billable time starts: when the call was answered. */
export function billableStartMs(record: CdrRecord): number {
  return record.answerMs ?? record.startMs;
}

/**
 * The record's share for one subscriber, split at month boundaries in their zone (DESIGN,
 * "period").
 */
export function segmentsFor(record: CdrRecord, party: Party): CallSegment[] {
  return splitAtMonthBoundaries(billableStartMs(record), record.billableSeconds, party.timezone);
}
