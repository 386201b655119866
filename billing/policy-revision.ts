/**
 * The rules of a policy revision (DESIGN, "policy revision"; the policy's "Any changes to the
 * policy will be communicated to users in advance"): which parameters may change and how they are
 * read, the earliest allowed effective date, the differences subscribers are told, when the
 * reminder goes out, and when a version may become active. Pure: the CLI, the workflow and the
 * activities call these, none restates them.
 */
import { formatCents, formatMicros, parseAmountToCents, parseRateToMicros } from './money';
import type { MinutePlan, PolicyRules } from './policy';

export type PolicyState = 'scheduled' | 'active' | 'superseded' | 'cancelled';

/** The reminder goes out this many days before the effective date. */
export const REMINDER_DAYS_BEFORE = 7;
/** The notice period is at least as long as the reminder's lead, so the reminder follows the notice. */
export const MIN_NOTICE_DAYS = REMINDER_DAYS_BEFORE;
export const MAX_NOTICE_DAYS = 365;
/** An invoice is due 0 (on issue) to 365 days after its issue date (the database's bounds too). */
export const MAX_PAYMENT_TERMS_DAYS = 365;

const DAY_MS = 86_400_000;

/** Calendar days are UTC: an effective date starts at 00:00 UTC. */
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00Z`);
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const addDays = (day: string, days: number): string => dayOf(dayStartMs(day) + days * DAY_MS);

export function earliestEffectiveDate(today: string, noticeDays: number): string {
  return addDays(today, noticeDays);
}

/** Why an effective date is refused, naming the earliest allowed one; undefined when it is allowed. */
export function effectiveDateProblem(effectiveFrom: string, today: string, noticeDays: number): string | undefined {
  const earliest = earliestEffectiveDate(today, noticeDays);
  if (effectiveFrom >= earliest) return undefined;
  return `--effective ${effectiveFrom} is less than the ${noticeDays}-day notice period away: the earliest allowed date is ${earliest}`;
}

/** When the reminder goes out: 7 days before the effective date, at the same hour as the date starts. */
export const reminderAtMs = (effectiveFrom: string): number => dayStartMs(effectiveFrom) - REMINDER_DAYS_BEFORE * DAY_MS;

// The parameters a revision may change, with their CLI flags and how people read them.

export type PolicyChanges = Partial<Omit<PolicyRules, 'currency'>>;
type Parameter = keyof PolicyChanges;

const formatCatalog = (plans: MinutePlan[], currency: string): string => plans.map((p) => `${p.minutes} min for ${formatCents(p.feeCents)} ${currency}`).join(', ');

export const POLICY_PARAMETERS: { key: Parameter; flag: string; label: string; show: (rules: PolicyRules) => string }[] = [
  { key: 'includedMinutes', flag: '--included-minutes', label: 'Included minutes a month', show: (r) => `${r.includedMinutes} min` },
  { key: 'overageRateMicros', flag: '--overage-rate', label: 'Overage rate', show: (r) => `${formatMicros(r.overageRateMicros)} ${r.currency} a minute` },
  { key: 'roundingIncrementSeconds', flag: '--rounding-increment', label: 'Rounding of each call', show: (r) => `up to ${r.roundingIncrementSeconds} s` },
  { key: 'planStreakCycles', flag: '--plan-streak', label: 'Months of overage before a minute plan', show: (r) => `${r.planStreakCycles}` },
  { key: 'planCatalog', flag: '--plan-catalog', label: 'Minute plans', show: (r) => formatCatalog(r.planCatalog, r.currency) },
  { key: 'alertThresholdsPercent', flag: '--alert-thresholds', label: 'Usage alerts at', show: (r) => r.alertThresholdsPercent.map((t) => `${t} %`).join(', ') },
  { key: 'noticeDays', flag: '--notice-days', label: 'Notice period for later changes', show: (r) => `${r.noticeDays} days` },
  { key: 'paymentTermsDays', flag: '--payment-terms-days', label: 'Invoices due after', show: (r) => `${r.paymentTermsDays} days` },
];

const wholeNumber = (text: string, what: string): number => {
  if (!/^\d{1,9}$/.test(text.trim())) throw new RangeError(`${what} "${text}" must be a whole number`);
  return Number(text.trim());
};

/** "500:15.00,1000:25.00": minutes and monthly fee of each plan. */
export function parsePlanCatalog(text: string): MinutePlan[] {
  return text.split(',').map((item) => {
    const [minutes, fee, ...rest] = item.split(':');
    if (minutes === undefined || fee === undefined || rest.length > 0) throw new RangeError(`plan "${item}" must be MINUTES:FEE, e.g. 500:15.00`);
    return { minutes: wholeNumber(minutes, 'plan minutes'), feeCents: parseAmountToCents(fee) };
  });
}

/** Reads the CLI's text values of the parameters given; throws a RangeError naming a bad one. */
export function parsePolicyChanges(flags: Partial<Record<Parameter, string>>): PolicyChanges {
  const changes: PolicyChanges = {};
  const read = <T>(key: Parameter, parse: (text: string) => T): T | undefined => {
    const text = flags[key];
    if (text === undefined) return undefined;
    const flag = POLICY_PARAMETERS.find((p) => p.key === key)!.flag;
    try {
      return parse(text);
    } catch (error) {
      throw new RangeError(`${flag}: ${(error as Error).message}`);
    }
  };
  const set = <K extends Parameter>(key: K, value: PolicyChanges[K] | undefined): void => {
    if (value !== undefined) changes[key] = value;
  };
  set(
    'includedMinutes',
    read('includedMinutes', (t) => wholeNumber(t, 'minutes')),
  );
  set('overageRateMicros', read('overageRateMicros', parseRateToMicros));
  set(
    'roundingIncrementSeconds',
    read('roundingIncrementSeconds', (t) => wholeNumber(t, 'seconds')),
  );
  set(
    'planStreakCycles',
    read('planStreakCycles', (t) => wholeNumber(t, 'months')),
  );
  set('planCatalog', read('planCatalog', parsePlanCatalog));
  set(
    'alertThresholdsPercent',
    read('alertThresholdsPercent', (t) => t.split(',').map((p) => wholeNumber(p, 'threshold'))),
  );
  set(
    'noticeDays',
    read('noticeDays', (t) => wholeNumber(t, 'days')),
  );
  set(
    'paymentTermsDays',
    read('paymentTermsDays', (t) => wholeNumber(t, 'days')),
  );
  return changes;
}

const increasing = (values: number[]): boolean => values.every((v, i) => i === 0 || v > values[i - 1]!);

/** Why a set of rules cannot be a policy version, naming the flag and value; undefined when it can. */
export function rulesProblem(r: PolicyRules): string | undefined {
  if (r.includedMinutes > 1_000_000) return `--included-minutes ${r.includedMinutes} is more than 1000000`;
  if (r.overageRateMicros > 100 * 1_000_000) return `--overage-rate ${formatMicros(r.overageRateMicros)} is more than 100.00 a minute`;
  if (r.roundingIncrementSeconds < 1 || r.roundingIncrementSeconds > 3600) return `--rounding-increment ${r.roundingIncrementSeconds} must be 1 to 3600 seconds`;
  if (r.planStreakCycles < 1 || r.planStreakCycles > 24) return `--plan-streak ${r.planStreakCycles} must be 1 to 24 months`;
  const minutes = r.planCatalog.map((p) => p.minutes);
  if (r.planCatalog.length < 1 || r.planCatalog.length > 10) return `--plan-catalog must list 1 to 10 plans, got ${r.planCatalog.length}`;
  if (minutes.some((m) => m < 1) || !increasing(minutes)) return `--plan-catalog plans must have more than 0 minutes, in increasing order: ${minutes.join(', ')}`;
  const thresholds = r.alertThresholdsPercent;
  if (thresholds.length < 1 || thresholds.length > 5 || thresholds.some((t) => t < 1 || t > 100) || !increasing(thresholds)) {
    return `--alert-thresholds ${thresholds.join(',')} must be 1 to 5 percentages from 1 to 100, in increasing order`;
  }
  if (r.noticeDays < MIN_NOTICE_DAYS || r.noticeDays > MAX_NOTICE_DAYS) return `--notice-days ${r.noticeDays} must be ${MIN_NOTICE_DAYS} to ${MAX_NOTICE_DAYS} days`;
  if (r.paymentTermsDays < 0 || r.paymentTermsDays > MAX_PAYMENT_TERMS_DAYS) return `--payment-terms-days ${r.paymentTermsDays} must be 0 to ${MAX_PAYMENT_TERMS_DAYS} days`;
  return undefined;
}

/**
 * Why a revision of `base` with `changes` effective `effectiveFrom` is refused (its rules, the
 * notice period counted from `today`, nothing changing); undefined when it may be published.
 */
export function revisionProblem(base: PolicyRules & { version: number }, changes: PolicyChanges, effectiveFrom: string, today: string): string | undefined {
  const rules = { ...base, ...changes };
  const problem = rulesProblem(rules) ?? effectiveDateProblem(effectiveFrom, today, base.noticeDays);
  if (problem) return problem;
  if (policyDifferences(base, rules).length === 0)
    return `nothing changes: give at least one parameter that differs from version ${base.version} (see \`billing policy show ${base.version}\`)`;
  return undefined;
}

/** One revision in flight at a time. */
export const revisionInFlightProblem = (inFlight: { version: number; effectiveFrom: string }): string =>
  `policy version ${inFlight.version} is already scheduled for ${inFlight.effectiveFrom}: one revision at a time; cancel it first (\`billing policy cancel ${inFlight.version}\`) or wait until it is active`;

export interface PolicyDifference {
  parameter: Parameter;
  label: string;
  before: string;
  after: string;
}

/** What changes from one version to the next, in the words subscribers read. */
export function policyDifferences(before: PolicyRules, after: PolicyRules): PolicyDifference[] {
  return POLICY_PARAMETERS.filter((p) => JSON.stringify(before[p.key]) !== JSON.stringify(after[p.key])).map((p) => ({
    parameter: p.key,
    label: p.label,
    before: p.show(before),
    after: p.show(after),
  }));
}

export interface SendCounts {
  sent: number;
  /** Not sent yet, never tried. */
  pending: number;
  /** Not sent yet, the last attempt failed: it is retried. */
  failed: number;
}

/** Where the emails of a revision stand (the workflow's `status` query and current details). */
export interface PolicyEmailProgress {
  notice: SendCounts;
  reminder: SendCounts;
  cancellation: SendCounts;
  /** Alerts to billing operations that activation is held. */
  alert: SendCounts;
  /** Notices to subscribers active at publication, and to those who joined later, not sent yet. */
  unsentAtPublication: number;
  unsentJoiners: number;
}

export const unsentEmails = (p: PolicyEmailProgress): number => [p.notice, p.reminder, p.cancellation, p.alert].reduce((n, c) => n + c.pending + c.failed, 0);

// Activation (issue 6, "Guarantee"): a version never becomes active on subscribers who were not
// told. The notice period is counted, in calendar days, from the day each subscriber active at
// publication was actually sent the notice; subscribers who join later are told when they join.

export interface NoticeTally {
  /** Every subscriber active at publication has a notice queued. */
  allQueued: boolean;
  /** Notices to subscribers active at publication not sent yet. */
  unsentAtPublication: number;
  /** Notices to subscribers who joined later, not sent yet. */
  unsentJoiners: number;
  /** When the last notice to a subscriber active at publication was sent, or null if none was. */
  lastSentAtPublicationMs: number | null;
}

export type ActivationPlan =
  /** Nothing to do before `atMs` (unless something changes). */
  | { kind: 'wait'; atMs: number }
  | { kind: 'activate'; activeFrom: string }
  /** Held: the effective date cannot be kept. With `activeFrom`, activation is due then. */
  | { kind: 'hold'; reason: 'notices-unsent'; unsent: number }
  | { kind: 'hold'; reason: 'notice-period'; activeFrom: string; atMs: number };

export function activationPlan(p: { effectiveFrom: string; noticeDays: number; nowMs: number; notices: NoticeTally }): ActivationPlan {
  const { effectiveFrom, noticeDays, nowMs, notices } = p;
  const effectiveMs = dayStartMs(effectiveFrom);
  const unsent = notices.unsentAtPublication + notices.unsentJoiners;
  if (!notices.allQueued || unsent > 0) {
    // A notice still unsent at publication can no longer give the full period once today + period
    // passes the effective date; anyone unsent at the effective date holds it too.
    const late = notices.unsentAtPublication > 0 && addDays(dayOf(nowMs), noticeDays) > effectiveFrom;
    if (late || nowMs >= effectiveMs) return { kind: 'hold', reason: 'notices-unsent', unsent };
    const lateFromMs = notices.unsentAtPublication > 0 ? dayStartMs(addDays(effectiveFrom, 1 - noticeDays)) : effectiveMs;
    return { kind: 'wait', atMs: Math.min(lateFromMs, effectiveMs) };
  }
  const periodEnds = notices.lastSentAtPublicationMs === null ? effectiveFrom : addDays(dayOf(notices.lastSentAtPublicationMs), noticeDays);
  const activeFrom = periodEnds > effectiveFrom ? periodEnds : effectiveFrom;
  const atMs = dayStartMs(activeFrom);
  if (nowMs >= atMs) return { kind: 'activate', activeFrom };
  if (activeFrom > effectiveFrom) return { kind: 'hold', reason: 'notice-period', activeFrom, atMs };
  return { kind: 'wait', atMs };
}

/** Why `cancel` is refused now; undefined when the revision may be cancelled. */
export function cancelProblem(p: { version: number; state: PolicyState; effectiveFrom: string; nowMs: number }): string | undefined {
  if (p.state === 'cancelled') return `policy version ${p.version} is already cancelled`;
  if (p.state !== 'scheduled')
    return `policy version ${p.version} is ${p.state} since its effective date ${p.effectiveFrom}: a revision can be cancelled only before that date; publish a new revision to change the rules again`;
  if (p.nowMs >= dayStartMs(p.effectiveFrom)) {
    return `policy version ${p.version}'s effective date ${p.effectiveFrom} has passed: a revision can be cancelled only before that date (its activation is held until every subscriber is told); publish a new revision to change the rules again`;
  }
  return undefined;
}

/** Why ops' explicit `activate` is refused now; undefined when it may go ahead. */
export function forcedActivationProblem(p: { version: number; effectiveFrom: string; nowMs: number; operator: unknown }): string | undefined {
  if (typeof p.operator !== 'string' || p.operator.trim() === '') return 'activate needs {"operator": "your name", "reason": "..."}';
  if (p.nowMs < dayStartMs(p.effectiveFrom))
    return `policy version ${p.version} takes effect on ${p.effectiveFrom}; it can be activated by hand only once that date has passed and activation is held`;
  return undefined;
}
