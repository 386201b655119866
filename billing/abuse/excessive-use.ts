/**
 * Excessive use (issue 7; the policy's "excessive ... usage"): the month's answered time so far
 * far past the allowance, by default more than 300 % of it. Overage is billed whatever the amount;
 * this only asks support to look at a subscriber whose use is out of all proportion.
 */
import { formatMinutes } from '../emails';
import type { AbuseThresholds } from './thresholds';
import type { Finding } from './types';
import { callsWithin, finding, totalSeconds, type DayScan } from './scan';

export function detectExcessiveUse(scan: DayScan, allowanceSeconds: number, thresholds: AbuseThresholds): Finding | undefined {
  const calls = callsWithin(scan.calls, scan.monthStartMs, scan.dayEndMs);
  const monthToDateSeconds = totalSeconds(calls);
  // Whole seconds: "more than p % of a" is "more than floor(a·p/100)" for a whole number of seconds.
  const thresholdSeconds = Math.floor((allowanceSeconds * thresholds.excessiveUsePercent) / 100);
  if (monthToDateSeconds <= thresholdSeconds) return undefined;
  return finding(
    scan,
    'excessive-use',
    `Subscriber ${scan.subscriberId} used ${formatMinutes(monthToDateSeconds)} from the start of the month to ${scan.day}, ` +
      `more than ${thresholds.excessiveUsePercent} % of the ${formatMinutes(allowanceSeconds)} allowance (${formatMinutes(thresholdSeconds)}).`,
    {
      measured: { monthToDateSeconds, allowanceSeconds },
      threshold: { excessiveUsePercent: thresholds.excessiveUsePercent, thresholdSeconds },
    },
    calls.map((c) => c.callId),
  );
}
