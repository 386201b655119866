/**
 * Abuse detection (DESIGN, "abuse"; issue 7): the daily check of one subscriber's day. Pure: the
 * activity loads the calls of `scanWindow(day, zone)` and the trailing daily totals, this decides
 * what looks like abuse, and each finding opens a case for support under its stable key.
 */
import { detectDialer } from './dialer';
import { detectExcessiveUse } from './excessive-use';
import { detectRoundTheClock } from './round-the-clock';
import { daysBetween, prepareScan } from './scan';
import { detectSimultaneousCalls } from './simultaneous-calls';
import { detectSuddenChange } from './sudden-change';
import type { AbuseDetector, AbuseDismissal, AbuseScanInput, Finding } from './types';

export { peakConcurrency, type CallInterval, type PeakConcurrency } from './concurrency';
export { detectDialer } from './dialer';
export { detectExcessiveUse } from './excessive-use';
export { activeHours, detectRoundTheClock } from './round-the-clock';
export { answeredSecondsByDay, dayOf, findingKey, localDayBounds, prepareScan, scanWindow, shiftDay, trailingDays, type DayScan } from './scan';
export { detectSimultaneousCalls } from './simultaneous-calls';
export { detectSuddenChange } from './sudden-change';
export { AbuseThresholdsSchema, DEFAULT_ABUSE_THRESHOLDS, parseAbuseThresholds, type AbuseThresholds } from './thresholds';
export * from './types';

/** Whether support dismissed a finding of this detector within `muteDays` before (or on) the day. */
export function isMuted(detector: AbuseDetector, day: string, dismissals: readonly AbuseDismissal[], muteDays: number): boolean {
  return dismissals.some((d) => {
    if (d.detector !== detector) return false;
    const since = daysBetween(d.day, day);
    return since >= 0 && since < muteDays;
  });
}

function checkWholeSeconds(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} ${value} must be a whole number of seconds ≥ 0`);
}

/** Every detector over the subscriber's day, in the order of ABUSE_DETECTORS; muted ones left out. */
export function runDetectors(input: AbuseScanInput): Finding[] {
  checkWholeSeconds(input.allowanceSeconds, 'allowanceSeconds');
  input.trailingDailySeconds.forEach((seconds, i) => checkWholeSeconds(seconds, `trailingDailySeconds[${i}]`));
  const scan = prepareScan(input);
  const { thresholds } = input;
  const findings = [
    detectExcessiveUse(scan, input.allowanceSeconds, thresholds),
    detectRoundTheClock(scan, thresholds),
    detectSimultaneousCalls(scan, thresholds),
    detectDialer(scan, thresholds),
    detectSuddenChange(scan, input.trailingDailySeconds, thresholds),
  ].filter((f): f is Finding => f !== undefined);
  return findings.filter((f) => !isMuted(f.detector, f.day, input.dismissals ?? [], thresholds.dismissMuteDays));
}
export {
  ABUSE_ACTIONS,
  ABUSE_CASE_STATES,
  AbuseDecisionSchema,
  awaitsDecision,
  checkAbuseDecision,
  nextCaseState,
  type AbuseAction,
  type AbuseCaseEvent,
  type AbuseCaseState,
  type AbuseCaseStep,
  type AbuseDecision,
  type AbuseDecisionPayload,
} from './decisions';
