/**
 * Minute plans for recurring overage (DESIGN, "minute plan"): after overage in N consecutive
 * closed cycles (policy parameter planStreakCycles), the smallest catalog plan whose minutes cover
 * the streak's average overage (the largest if none does) joins the monthly charge from the next
 * cycle; the streak then restarts. A subscriber who already has a plan and still runs over moves
 * up by the same rule, counting the minutes the current plan already gives.
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
