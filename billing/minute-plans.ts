/**
 * Minute plans for recurring overage (DESIGN, "minute plan"): after overage in N consecutive
 * closed cycles (policy parameter planStreakCycles), the smallest catalog plan whose minutes cover
 * the streak's average overage (the largest if none does) joins the monthly charge from the next
 * cycle; the streak then restarts. A subscriber who already has a plan and still runs over moves
 * up by the same rule, counting the minutes the current plan already gives. A plan no longer
 * needed for as many consecutive closed cycles is removed, or stepped down (`reviewPlan`).
 */
import type { MinutePlan, PolicyRules } from './policy';

export interface OverageStreak {
  /** Consecutive closed cycles with overage, oldest first. */
  periods: string[];
  overageMinutes: number[];
}

export const EMPTY_STREAK: OverageStreak = { periods: [], overageMinutes: [] };

/** The streak after a cycle closes: one more month over, or broken by a month without. */
export function extendStreak(streak: OverageStreak, period: string, overageMinutes: number): OverageStreak {
  if (overageMinutes <= 0) return EMPTY_STREAK;
  return { periods: [...streak.periods, period], overageMinutes: [...streak.overageMinutes, overageMinutes] };
}

export function choosePlan(neededMinutes: number, catalog: MinutePlan[]): MinutePlan {
  if (catalog.length === 0) throw new RangeError('the minute plan catalog is empty');
  const byMinutes = [...catalog].sort((a, b) => a.minutes - b.minutes);
  return byMinutes.find((plan) => plan.minutes >= neededMinutes) ?? byMinutes[byMinutes.length - 1]!;
}

export interface PlanDecision {
  plan: MinutePlan;
  averageOverageMinutes: number;
  streak: OverageStreak;
}

/**
 * What the streak calls for, if anything: a plan to add or move to. `undefined` while the streak
 * is short, or when the subscriber already has the largest plan.
 */
export function planDecision(streak: OverageStreak, rules: Pick<PolicyRules, 'planStreakCycles' | 'planCatalog'>, current: MinutePlan | null): PlanDecision | undefined {
  if (streak.periods.length < rules.planStreakCycles) return undefined;
  const total = streak.overageMinutes.reduce((sum, m) => sum + m, 0);
  const averageOverageMinutes = Math.ceil(total / streak.overageMinutes.length);
  const plan = choosePlan((current?.minutes ?? 0) + averageOverageMinutes, rules.planCatalog);
  if (current && plan.minutes <= current.minutes) return undefined;
  return { plan, averageOverageMinutes, streak };
}

/** Whether the streak is complete, so it restarts whatever was decided. */
export function streakComplete(streak: OverageStreak, rules: Pick<PolicyRules, 'planStreakCycles'>): boolean {
  return streak.periods.length >= rules.planStreakCycles;
}

/**
 * Plans no longer needed (DESIGN, "minute plan"): consecutive closed cycles with a plan in which a
 * smaller catalog plan, or none, would have covered the month's usage. Each month is measured
 * against the allowance without the plan (the included minutes or the approved limit).
 */
export interface PlanFitStreak {
  periods: string[];
  /** Each month's overage as it would have been without the plan: 0 when the usage fit without it. */
  overageMinutesWithoutPlan: number[];
}

export const EMPTY_FIT_STREAK: PlanFitStreak = { periods: [], overageMinutesWithoutPlan: [] };

/**
 * The smallest catalog plan whose minutes cover `neededMinutes`: `null` when nothing is needed
 * (no plan at all), `undefined` when no plan of the catalog covers it.
 */
export function coveringPlan(neededMinutes: number, catalog: MinutePlan[]): MinutePlan | null | undefined {
  if (neededMinutes <= 0) return null;
  return [...catalog].sort((a, b) => a.minutes - b.minutes).find((plan) => plan.minutes >= neededMinutes);
}

/** A plan removed (`plan` null) or stepped down, from the cycle after the streak. */
export interface PlanReduction {
  plan: MinutePlan | null;
  previousPlan: MinutePlan;
  /** The largest overage of the streak's months without the plan, which `plan` covers. */
  largestOverageWithoutPlanMinutes: number;
  streak: PlanFitStreak;
}

/**
 * One closed cycle's review of the plan it carried: the fit streak after it and, once the streak
 * is as long as the policy's `planStreakCycles`, the reduction it calls for (then the streak
 * restarts). A month counts when the plan covering its overage without the plan is smaller than
 * the current one, or none; any other month, or a month without a plan, breaks the streak. The
 * plan kept is the smallest that covers every month of the streak, so none of them would have
 * been charged overage under it.
 */
export function reviewPlan(
  streak: PlanFitStreak,
  period: string,
  overageMinutesWithoutPlan: number,
  current: MinutePlan | null,
  rules: Pick<PolicyRules, 'planStreakCycles' | 'planCatalog'>,
): { streak: PlanFitStreak; reduction?: PlanReduction } {
  if (!current) return { streak: EMPTY_FIT_STREAK };
  const enough = coveringPlan(overageMinutesWithoutPlan, rules.planCatalog);
  if (enough === undefined || (enough !== null && enough.minutes >= current.minutes)) return { streak: EMPTY_FIT_STREAK };
  const extended: PlanFitStreak = {
    periods: [...streak.periods, period],
    overageMinutesWithoutPlan: [...streak.overageMinutesWithoutPlan, overageMinutesWithoutPlan],
  };
  if (extended.periods.length < rules.planStreakCycles) return { streak: extended };
  const largest = Math.max(...extended.overageMinutesWithoutPlan);
  // Every month's plan is smaller than the current one, so the plan covering the largest is too.
  const plan = coveringPlan(largest, rules.planCatalog) ?? null;
  return { streak: EMPTY_FIT_STREAK, reduction: { plan, previousPlan: current, largestOverageWithoutPlanMinutes: largest, streak: extended } };
}
