/**
 * Sudden change (issue 7): a day's answered time far above the subscriber's own normal, the median
 * of their trailing daily time (default more than 500 % of it over the last 30 days) and above an
 * absolute floor (default 240 minutes; see DEFAULT_ABUSE_THRESHOLDS), often a compromised account.
 */
import { formatMinutes } from '../emails';
import type { AbuseThresholds } from './thresholds';
import type { Finding } from './types';
import { finding, type DayScan } from './scan';

/** Twice the median, so that it stays a whole number when the count is even. */
function twiceMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? 2 * sorted[mid]! : sorted[mid - 1]! + sorted[mid]!;
}

export function detectSuddenChange(scan: DayScan, trailingDailySeconds: readonly number[], thresholds: AbuseThresholds): Finding | undefined {
  const trailing = trailingDailySeconds.slice(-thresholds.suddenChangeTrailingDays);
  if (trailing.length < thresholds.suddenChangeMinimumHistoryDays) return undefined;
  const medianTimesTwo = twiceMedian(trailing);
  // Whole seconds: "more than p % of m" is "more than floor(2m·p/200)" for a whole number of seconds.
  const relativeSeconds = Math.floor((medianTimesTwo * thresholds.suddenChangePercent) / 200);
  const floorSeconds = thresholds.suddenChangeMinimumMinutesPerDay * 60;
  const thresholdSeconds = Math.max(relativeSeconds, floorSeconds);
  if (scan.daySeconds <= thresholdSeconds) return undefined;
  const medianSeconds = medianTimesTwo / 2;
  return finding(
    scan,
    'sudden-change',
    `Subscriber ${scan.subscriberId} used ${formatMinutes(scan.daySeconds)} on ${scan.day}, more than ${thresholds.suddenChangePercent} % of ` +
      `their median day over the previous ${trailing.length} days (${formatMinutes(Math.round(medianSeconds))}) and more than ${formatMinutes(floorSeconds)}.`,
    {
      measured: { answeredSeconds: scan.daySeconds, trailingMedianSeconds: medianSeconds, trailingDays: trailing.length },
      threshold: { suddenChangePercent: thresholds.suddenChangePercent, suddenChangeMinimumSeconds: floorSeconds, thresholdSeconds },
    },
    scan.dayCalls.map((c) => c.callId),
  );
}
