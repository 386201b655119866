/**
 * Dialer pattern (issue 7): many short answered calls in one local day (default more than 200
 * shorter than 10 s): an autodialer or a robocall campaign rather than a person.
 */
import type { AbuseThresholds } from './thresholds';
import type { Finding } from './types';
import { finding, type DayScan } from './scan';

export function detectDialer(scan: DayScan, thresholds: AbuseThresholds): Finding | undefined {
  const shortMs = thresholds.dialerShortCallSeconds * 1000;
  // A call belongs to the day it started on; answered calls of 0 s are short calls too.
  const shortCalls = scan.calls.filter((c) => c.startMs >= scan.dayStartMs && c.startMs < scan.dayEndMs && c.endMs - c.startMs < shortMs);
  if (shortCalls.length <= thresholds.dialerShortCallsPerDay) return undefined;
  return finding(
    scan,
    'dialer',
    `Subscriber ${scan.subscriberId} made ${shortCalls.length} answered calls shorter than ${thresholds.dialerShortCallSeconds} s on ${scan.day}, ` +
      `more than the bound of ${thresholds.dialerShortCallsPerDay} a day.`,
    {
      measured: { shortCalls: shortCalls.length },
      threshold: { dialerShortCallsPerDay: thresholds.dialerShortCallsPerDay, dialerShortCallSeconds: thresholds.dialerShortCallSeconds },
    },
    shortCalls.map((c) => c.callId),
  );
}
