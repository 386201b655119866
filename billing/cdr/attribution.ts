/**
 * Whose usage a record is (DESIGN, "Who"): the calling side is the subscriber whose account code
 * the row carries (when set and known), otherwise the owner of the calling number, and it is
 * their outgoing call; the owner of the called number has an incoming call. A call between two
 * subscribers counts for both, once each. Our own formats name the subscriber outright.
 */
import { splitAtMonthBoundaries, type CallSegment } from '../periods';
import type { CdrRecord } from './types';

export interface Directory {
  timezoneOf(subscriberId: string): string | undefined;
  subscriberByAccountCode(code: string): string | undefined;
  subscriberByNumber(number: string): string | undefined;
}

export interface Attribution {
  subscriberId: string;
  direction: 'outgoing' | 'incoming';
}

export function attribute(record: CdrRecord, directory: Directory): Attribution[] {
  if (record.subscriberId !== undefined) {
    return directory.timezoneOf(record.subscriberId) === undefined
      ? []
      : [{ subscriberId: record.subscriberId, direction: record.direction ?? 'outgoing' }];
  }
  const caller = (record.accountCode !== null ? directory.subscriberByAccountCode(record.accountCode) : undefined)
    ?? (record.callingNumber !== null ? directory.subscriberByNumber(record.callingNumber) : undefined);
  const callee = record.calledNumber !== null ? directory.subscriberByNumber(record.calledNumber) : undefined;
  const sides: Attribution[] = [];
  if (caller !== undefined) sides.push({ subscriberId: caller, direction: 'outgoing' });
  if (callee !== undefined && callee !== caller) sides.push({ subscriberId: callee, direction: 'incoming' });
  return sides;
}

/**
 * The record's share for one subscriber, split at month boundaries in their zone (DESIGN,
 * "period"). Billable time starts when the call was answered.
 */
export function segmentsFor(record: CdrRecord, timezone: string): CallSegment[] {
  return splitAtMonthBoundaries(record.answerMs ?? record.startMs, record.billableSeconds, timezone);
}
