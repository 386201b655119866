/**
 * Round-the-clock calling (issue 7): in one local day, more answered time than a person spends on
 * the phone (default 18 h), or answered time in every hour of the day, night included.
 */
import { formatMinutes } from '../emails';
import type { AbuseThresholds } from './thresholds';
import type { Finding } from './types';
import { finding, type DayScan } from './scan';

const MS_PER_HOUR = 3_600_000;

/**
 * Hours counted from the start of the local day (23, 24 or 25 of them; 24 on most days) in which
 * some answered call was in progress.
 */
export function activeHours(scan: DayScan): { activeHours: number; hoursInDay: number } {
  const hoursInDay = Math.ceil((scan.dayEndMs - scan.dayStartMs) / MS_PER_HOUR);
  const active = new Set<number>();
  for (const call of scan.calls) {
    const fromMs = Math.max(call.startMs, scan.dayStartMs);
    const toMs = Math.min(call.endMs, scan.dayEndMs);
    if (toMs <= fromMs) continue;
    const first = Math.floor((fromMs - scan.dayStartMs) / MS_PER_HOUR);
    const last = Math.floor((toMs - 1 - scan.dayStartMs) / MS_PER_HOUR);
    for (let hour = first; hour <= last; hour += 1) active.add(hour);
  }
  return { activeHours: active.size, hoursInDay };
}

export function detectRoundTheClock(scan: DayScan, thresholds: AbuseThresholds): Finding | undefined {
  const thresholdSeconds = thresholds.roundTheClockMinutesPerDay * 60;
  const { activeHours: hours, hoursInDay } = activeHours(scan);
  const requiredHours = Math.min(thresholds.roundTheClockActiveHoursPerDay, hoursInDay);
  const tooLong = scan.daySeconds > thresholdSeconds;
  const everyHour = hours >= requiredHours;
  if (!tooLong && !everyHour) return undefined;
  const reasons = [
    ...(tooLong ? [`${formatMinutes(scan.daySeconds)} of answered calls, more than ${formatMinutes(thresholdSeconds)}`] : []),
    ...(everyHour ? [`a call in progress in ${hours} of the day's ${hoursInDay} hours`] : []),
  ];
  return finding(
    scan,
    'round-the-clock',
    `Subscriber ${scan.subscriberId} called round the clock on ${scan.day}: ${reasons.join(', and ')}.`,
    {
      measured: { answeredSeconds: scan.daySeconds, activeHours: hours, hoursInDay },
      threshold: { roundTheClockSeconds: thresholdSeconds, activeHoursRequired: requiredHours },
    },
    scan.dayCalls.map((c) => c.callId),
  );
}
