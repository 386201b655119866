/**
 * The policy impact preview as `billing policy preview` and `billing policy publish` run it: the
 * months checked (closed, nothing in the future), the facts and usage read set-based by db/, the
 * comparison made by the core (billing/policy-preview.ts), and the summary people read.
 */
import type { Pool } from 'pg';
import { formatCents } from '../billing/money';
import { comparePeriods, periodOf, periodsBetween, previousPeriod, startOfDayMs } from '../billing/periods';
import type { PolicyVersion } from '../billing/policy';
import { comparePolicies, notClosedProblem, planText, previewMonthProblem, proposedPolicy, type PlanOutcome, type PolicyPreview } from '../billing/policy-preview';
import { policyDifferences, type PolicyChanges, type PolicyDifference } from '../billing/policy-revision';
import { closeProgressSnapshot } from '../db/month-close';
import { activePolicy, firstPolicyDay, policyInEffectOn } from '../db/policies';
import { invoicedMonths, periodFactsOfMany } from '../db/terms';
import { countedDurationsOfMany, usageKey } from '../db/usage';
import { InputError } from './context';
import { plural } from './output';

export interface PreviewReport extends PolicyPreview {
  /** The version the proposal is based on (the active one) and what it changes. */
  basedOn: number;
  differences: PolicyDifference[];
}

/** Every month must be over and its close complete; the first problem is an InputError (exit 2). */
export async function checkPreviewMonths(pool: Pool, periods: string[], nowMs: number): Promise<void> {
  const first = await firstPolicyDay(pool);
  for (const period of periods) {
    const problem = previewMonthProblem(period, { nowMs, firstPolicyDay: first });
    if (problem) throw new InputError(problem);
  }
  for (const period of periods) {
    const problem = notClosedProblem(period, await closeProgressSnapshot(pool, period));
    if (problem) throw new InputError(problem);
  }
}

/**
 * The last three closed months (`billing policy publish`): ending with the latest month whose
 * close is complete among the last three over everywhere; none when none of them is.
 */
export async function lastClosedMonths(pool: Pool, nowMs: number, count = 3): Promise<string[]> {
  const first = (await firstPolicyDay(pool)).slice(0, 7);
  let candidate = previousPeriod(periodOf(nowMs, 'Etc/GMT+12'));
  for (let tries = 0; tries < 3 && comparePeriods(candidate, first) >= 0; tries += 1, candidate = previousPeriod(candidate)) {
    if (notClosedProblem(candidate, await closeProgressSnapshot(pool, candidate)) === undefined) {
      let from = candidate;
      for (let i = 1; i < count && comparePeriods(previousPeriod(from), first) >= 0; i += 1) from = previousPeriod(from);
      return periodsBetween(from, candidate);
    }
  }
  return [];
}

/** Re-rates the months' invoiced usage under the active policy with `changes`, and under the terms in force then. */
export async function policyPreview(pool: Pool, periods: string[], changes: PolicyChanges): Promise<PreviewReport> {
  const active = await activePolicy(pool);
  const proposed = proposedPolicy(active, changes);
  const months = await invoicedMonths(pool, periods);
  const policies = new Map<string, Promise<PolicyVersion>>();
  const policyOn = (day: string): Promise<PolicyVersion> => {
    if (!policies.has(day)) policies.set(day, policyInEffectOn(pool, day));
    return policies.get(day)!;
  };
  const [facts, usage] = await Promise.all([
    periodFactsOfMany(pool, months, { policyOn }),
    // Usage dated before the service start is never rated (as the close reads it): only its first month has any.
    countedDurationsOfMany(
      pool,
      periods,
      months
        .filter((m) => m.subscriber.serviceStart.slice(0, 7) === m.period)
        .map((m) => ({ subscriberId: m.subscriber.id, period: m.period, fromMs: startOfDayMs(m.subscriber.serviceStart, m.subscriber.timezone) })),
    ),
  ]);
  const preview = comparePolicies(
    months.map((m, i) => ({ subscriberId: m.subscriber.id, facts: facts[i]!, durations: usage.get(usageKey(m.subscriber.id, m.period)) ?? [] })),
    proposed,
    periods,
  );
  return { ...preview, basedOn: active.version, differences: policyDifferences(active, proposed) };
}

const range = (periods: string[]): string => (periods.length === 1 ? periods[0]! : `${periods[0]}..${periods[periods.length - 1]}`);
const arrow = <T>(a: T, b: T, show: (v: T) => string = String): string => (a === b ? show(a) : `${show(a)} → ${show(b)}`);
const signed = (cents: number): string => (cents > 0 ? `+${formatCents(cents)}` : formatCents(cents));
const plansText = (plans: PlanOutcome[], currency: string): string =>
  plans.length === 0 ? 'none' : plans.map((o) => `${planText(o.plan, currency)} from ${o.fromPeriod}`).join('; ');

/** The summary people read: what is compared, the subscribers whose bills change, the totals. */
export function previewLines(r: PreviewReport): string[] {
  const cur = r.currency;
  const money = (cents: number): string => formatCents(cents);
  const head = [
    `Policy preview: ${range(r.periods)} (${plural(r.periods.length, 'closed month')}) re-rated under version ${r.basedOn}${r.differences.length ? ' with' : ' (no parameter changed)'}:`,
    ...r.differences.map((d) => `  ${d.label}: ${d.before} → ${d.after}`),
    'against the terms in force in each month (its policy version, plans and granted limits).',
  ];
  if (r.subscribers.length === 0) return [...head, `No subscriber was invoiced in ${range(r.periods)}: nothing to compare.`];
  const changed = r.subscribers.filter((s) => s.changed);
  const columns = ['Subscriber', 'Overage minutes', `Overage (${cur})`, `Invoiced (${cur})`, `Difference (${cur})`, 'Minute plan (now → proposed)'];
  const rows = changed.map((s) => [
    s.subscriberId,
    arrow(s.current.overageMinutes, s.proposed.overageMinutes, (v) => v.toLocaleString('en')),
    arrow(s.current.overageCents, s.proposed.overageCents, money),
    arrow(s.current.totalCents, s.proposed.totalCents, money),
    signed(s.proposed.totalCents - s.current.totalCents),
    arrow(plansText(s.current.plans, cur), plansText(s.proposed.plans, cur)),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const t = r.totals;
  return [
    ...head,
    ...(rows.length === 0 ? ["No subscriber's invoices or minute plans would change."] : [line(columns), ...rows.map(line)]),
    `In total: ${plural(t.subscribers, 'subscriber')} invoiced, ${t.changed.toLocaleString('en')} whose bills or plans change; ` +
      `overage ${arrow(t.current.overageMinutes, t.proposed.overageMinutes, (v) => v.toLocaleString('en'))} min, ${arrow(t.current.overageCents, t.proposed.overageCents, money)} ${cur}; ` +
      `invoiced ${arrow(t.current.totalCents, t.proposed.totalCents, money)} ${cur} (${signed(t.proposed.totalCents - t.current.totalCents)} ${cur}); ` +
      `minute plans decided ${arrow(t.current.plans, t.proposed.plans, (v) => v.toLocaleString('en'))}`,
  ];
}
