/**
 * Simultaneous calls (issue 7): more answered calls in progress at one instant of the local day
 * than the bound (default 4): a line shared out or resold, or a dialer running several channels.
 */
import { DateTime } from 'luxon';
import { peakConcurrency } from './concurrency';
import type { AbuseThresholds } from './thresholds';
import type { Finding } from './types';
import { finding, type DayScan } from './scan';

export function detectSimultaneousCalls(scan: DayScan, thresholds: AbuseThresholds): Finding | undefined {
  // Only the part of each call inside the day: a peak belongs to the day it happened on.
  const intervals = scan.calls.map((call) => ({
    callId: call.callId,
    startMs: Math.max(call.startMs, scan.dayStartMs),
    endMs: Math.min(call.endMs, scan.dayEndMs),
  }));
  const peak = peakConcurrency(intervals);
  if (peak.calls <= thresholds.simultaneousCallsMax || peak.atMs === undefined) return undefined;
  const localTime = DateTime.fromMillis(peak.atMs, { zone: scan.timeZone }).toFormat('HH:mm:ss');
  return finding(
    scan,
    'simultaneous-calls',
    `Subscriber ${scan.subscriberId} had ${peak.calls} answered calls in progress at once on ${scan.day} at ${localTime} (${scan.timeZone}), ` +
      `more than the ${thresholds.simultaneousCallsMax} allowed.`,
    {
      measured: { simultaneousCalls: peak.calls, atMs: peak.atMs },
      threshold: { simultaneousCallsMax: thresholds.simultaneousCallsMax },
    },
    peak.callIds,
  );
}
