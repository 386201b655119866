/**
 * What the abuse detectors read and what they report (issue 7). Plain objects, so that an activity
 * can fill them from PostgreSQL and a workflow can carry a finding into an `abuse-case-<caseId>`.
 */
import type { AbuseThresholds } from './thresholds';

export const ABUSE_DETECTORS = ['excessive-use', 'round-the-clock', 'simultaneous-calls', 'dialer', 'sudden-change'] as const;
export type AbuseDetector = (typeof ABUSE_DETECTORS)[number];

/** One row of the subscriber's calls, as the `calls` table holds it. */
export interface AbuseCall {
  /**
   * The call's record key. A call split at a month boundary is stored once per segment under the
   * same key; the detectors join the segments back into one call.
   */
  callId: string;
  /** When the answered part began (`calls.started_at`), epoch ms. */
  startMs: number;
  /** Answered seconds (billsec): the answered interval is [startMs, startMs + answeredSeconds s). */
  answeredSeconds: number;
  /** Whether the call counts toward the limit (DESIGN, "what counts"); only these are checked. */
  counted: boolean;
}

/** A finding support dismissed: it mutes the same detector for `dismissMuteDays` from that day. */
export interface AbuseDismissal {
  detector: AbuseDetector;
  /** The day of the dismissed finding, YYYY-MM-DD in the subscriber's zone. */
  day: string;
}

export interface AbuseScanInput {
  subscriberId: string;
  /** The subscriber's IANA time zone: days and months are theirs. */
  timeZone: string;
  /** The local day being scanned, YYYY-MM-DD. */
  day: string;
  /**
   * The subscriber's calls overlapping the month to date, from the start of the day's month to
   * the end of the day (`scanWindow`); calls outside it are ignored, so more do no harm.
   */
  calls: readonly AbuseCall[];
  /** The month's allowance (included minutes or raised limit, plus any minute plan), in seconds. */
  allowanceSeconds: number;
  /**
   * Counted answered seconds of each day before `day`, oldest first, one entry a day with 0 for a
   * quiet day, starting no earlier than the subscriber's service start (`answeredSecondsByDay`
   * computes them from calls). Only the last `suddenChangeTrailingDays` are used.
   */
  trailingDailySeconds: readonly number[];
  /** The thresholds of the policy version in force on the day. */
  thresholds: AbuseThresholds;
  /** Findings support dismissed recently; optional. */
  dismissals?: readonly AbuseDismissal[];
}

export interface AbuseEvidence {
  /** What was measured, each name with its unit, e.g. `{ answeredSeconds: 66000 }`. */
  measured: Record<string, number>;
  /** The bounds it was compared with, named like the measured values. */
  threshold: Record<string, number>;
  /** The calls involved, at most `ABUSE_EVIDENCE_CALLS_MAX`, the most telling first. */
  callIds: string[];
  /** How many calls were involved in all. */
  callCount: number;
}

export interface Finding {
  subscriberId: string;
  detector: AbuseDetector;
  day: string;
  /** `<subscriberId>:<detector>:<day>`: a finding is opened once per subscriber, detector and day. */
  key: string;
  /** One sentence for support, with the numbers. */
  summary: string;
  evidence: AbuseEvidence;
}

/** How many call ids a finding carries; the case can list the rest from the database. */
export const ABUSE_EVIDENCE_CALLS_MAX = 20;
