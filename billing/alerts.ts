/**
 * Usage alerts (DESIGN, "alerts"): email at 80 % and at 100 % of the allowance, once per
 * threshold per cycle, only for cycles from the service start.
 */
import { comparePeriods, periodOf, previousPeriod } from './periods';

/** The thresholds (percent of the allowance) that usage has reached. */
export function thresholdsReached(usedSeconds: number, allowanceSeconds: number, thresholdsPercent: number[]): number[] {
  if (allowanceSeconds <= 0) return usedSeconds > 0 ? [...thresholdsPercent] : [];
  // used/allowance ≥ pct/100, in integers
  return thresholdsPercent.filter((pct) => usedSeconds * 100 >= allowanceSeconds * pct);
}

/**
 * Whether a month is still an open cycle worth alerting on: the current month in the subscriber's
 * zone, or the previous one while it awaits its close. Older months are history, not news.
 */
export function isAlertablePeriod(period: string, nowMs: number, timezone: string): boolean {
  return comparePeriods(period, previousPeriod(periodOf(nowMs, timezone))) >= 0;
}

/**
 * Where a month stands for its alerts: `open` while it runs in the subscriber's zone, `ended` once
 * over there and awaiting its close (its grace window: the alert then says what its invoice will
 * carry), or `undefined` when no alert is due at all: a month before the one of the service start
 * (DESIGN, "service start"), or older than the last one.
 */
export function alertMonth(period: string, nowMs: number, timezone: string, serviceStart: string): 'open' | 'ended' | undefined {
  if (comparePeriods(period, serviceStart.slice(0, 7)) < 0 || !isAlertablePeriod(period, nowMs, timezone)) return undefined;
  return comparePeriods(period, periodOf(nowMs, timezone)) < 0 ? 'ended' : 'open';
}

export function usageAlertKey(subscriberId: string, period: string, thresholdPercent: number): string {
  return `usage-alert:${subscriberId}:${period}:${thresholdPercent}`;
}
