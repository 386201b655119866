/**
 * The subscriber cycle as it ran before the patch `invoice-rates-marked-calls` (workflows/subscriber.ts):
 * kept unchanged so that runs started by earlier versions replay and finish as they began. New runs
 * never come here.
 *
 * subscriber-<id>: one subscriber's billing cycle, one run per calendar month (DESIGN,
 * "Processes"). The run waits for its month to be closed, waits until the month is over in the
 * subscriber's zone plus a grace period for late records, rates the usage with the pure core,
 * writes and mails the invoice through idempotent activities, then continues as new with the
 * next month, so the history stays small however long the subscription lasts.
 */
import {
  condition,
  continueAsNew,
  makeContinueAsNewFunc,
  setHandler,
  sleep,
  allHandlersFinished,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { formatCents } from '../billing/money';
import { comparePeriods, isValidPeriod, nextPeriod } from '../billing/periods';
import { EMPTY_FIT_STREAK, EMPTY_STREAK, extendStreak, planDecision, reviewPlan, streakComplete, type OverageStreak, type PlanFitStreak } from '../billing/minute-plans';
import { allowanceSeconds, lateAdjustmentLine, overageCharge, overageMinutes, rateCycle, withExtraLines, type InvoiceLine } from '../billing/rating';
import type { CloseInputs } from '../activities/cycle';
import { local, localMail, mail } from './activity-proxies';
import {
  BillingPeriodKey,
  CycleStateKey,
  OverageMinutesKey,
  SubscriberIdKey,
  closeCycleSignal,
  limitChangedSignal,
  resumeSignal,
  statusQuery,
  suspendSignal,
  terminateSignal,
  type CloseCyclePayload,
  type LimitChangedPayload,
  type CycleState,
  type InvoiceSummary,
  type SubscriberStatus,
  type SuspendPayload,
  type TerminatePayload,
} from './messages';

export const DEFAULT_CLOSE_GRACE_HOURS = 6;

/**
 * Patch: a close reads its terms, usage and late months in one local activity and mails the
 * invoice as a local activity (four activations and one activity task fewer per subscriber).
 * Runs recorded before it replay the three reads and the mail activity task.
 */
export const CLOSE_IN_ONE_READ_PATCH = 'close-in-one-read';

/** Patch: a close without a grace period of its own waits the worker's configured grace, not 6 h. */
export const GRACE_FROM_WORKER_PATCH = 'cycle-grace-from-worker';

export interface SubscriberCycleInput {
  subscriberId: string;
  /** The month this run bills, YYYY-MM. */
  period: string;
  /** Close requests carried over from the previous run, for this month or later ones. */
  pendingCloses?: CloseCyclePayload[];
  closedCycles?: number;
  lastInvoice?: InvoiceSummary | null;
  /** Consecutive closed cycles with overage, for minute plans. */
  streak?: OverageStreak;
  /** Consecutive closed cycles whose usage a smaller plan or none would have covered (patch `minute-plan-removal`). */
  planFit?: PlanFitStreak;
  /** The raised limit support approved, shown in the status while it applies. */
  limit?: LimitChangedPayload;
  /** An abuse case's suspension in force, shown in the status (PostgreSQL holds it for the switch). */
  suspension?: SuspendPayload;
  /** An abuse case's termination: this run invoices its month so far and the subscription ends. */
  termination?: TerminatePayload;
  /** When the termination took effect (the abuse case's decision), epoch ms. */
  terminatedAtMs?: number;
}

export async function legacySubscriberWorkflow(input: SubscriberCycleInput): Promise<void> {
  const { subscriberId, period } = input;
  let state: CycleState = 'open';
  // What an engineer sees in the UI: searchable attributes, and the run's current details.
  // One upsert per change of state: each is a visibility write on the server, for every subscriber.
  // A run continued from the last one starts with its month's attributes already set (below), and
  // an upsert that changes nothing is skipped.
  const show = (next: CycleState, details: string, overageMinutes?: number): void => {
    state = next;
    const pairs = cycleAttributes(subscriberId, period, next, overageMinutes);
    const current = workflowInfo().typedSearchAttributes;
    if (!pairs.every(({ key, value }) => current.get(key) === value)) upsertSearchAttributes(pairs);
    setCurrentDetails(`**${subscriberId}**, ${period}: ${next}. ${details}`);
  };
  const last = input.lastInvoice;
  // A new run starts its month with no overage; the finished run keeps its month's figure.
  show('open', last ? `Last invoice ${last.invoiceId}: ${formatCents(last.totalCents)}, overage ${last.overageMinutes} min.` : 'No invoice yet.', 0);
  const pending: CloseCyclePayload[] = [...(input.pendingCloses ?? [])];
  const rejectedSignals: string[] = [];
  // Shown in the status only: the rating reads the limit of the month from PostgreSQL at close.
  let limit: LimitChangedPayload | undefined = input.limit;
  // Abuse cases (issue 7): the decision is in PostgreSQL already; these shape the cycle.
  let suspension: SuspendPayload | undefined = input.suspension;
  let termination: TerminatePayload | undefined = input.termination;
  setHandler(suspendSignal, (payload) => {
    suspension = payload;
  });
  setHandler(resumeSignal, (payload) => {
    if (suspension?.caseId === payload?.caseId) suspension = undefined;
  });
  setHandler(terminateSignal, (payload) => {
    termination ??= payload;
  });

  setHandler(limitChangedSignal, (payload) => {
    const problem = limitChangeProblem(payload);
    if (problem) {
      rejectedSignals.push(problem);
      log.warn('limitChanged signal rejected', { problem });
      return;
    }
    limit = payload;
  });

  setHandler(closeCycleSignal, (payload) => {
    const problem = closeRequestProblem(payload);
    if (problem) {
      rejectedSignals.push(problem);
      log.warn('closeCycle signal rejected', { problem });
      return;
    }
    if (comparePeriods(payload.period, period) < 0) {
      log.info('closeCycle for a month already closed: nothing to do', { requested: payload.period, current: period });
      return;
    }
    pending.push(payload);
  });

  setHandler(statusQuery, (): SubscriberStatus => ({
    subscriberId,
    period,
    state,
    pendingCloses: pending.map((p) => p.period),
    closedCycles: input.closedCycles ?? 0,
    lastInvoice: input.lastInvoice ?? null,
    rejectedSignals,
    limit: limit ?? null,
    suspension: suspension ?? null,
    termination: termination ?? null,
  }));

  // Closing a later month closes this one first: a month is billed only after all before it.
  const closeRequested = (): boolean => pending.some((p) => comparePeriods(p.period, period) >= 0);
  // A termination closes the month in progress now, for good. Runs from before the patch never
  // acted on the signal, so their replay ignores it.
  let ending = false;
  let terminationIgnored = false;
  for (;;) {
    await condition(() => closeRequested() || (termination !== undefined && !terminationIgnored));
    if (closeRequested()) break;
    if (patched('abuse-termination')) {
      ending = true;
      pending.push({ period });
      break;
    }
    terminationIgnored = true;
  }
  // Since the patch, a close asked without a grace period (a termination's) takes the worker's
  // configured one (BILLING_CLOSE_GRACE_HOURS), as the month close's requests do.
  const configuredGraceHours =
    pending.some((p) => p.graceHours === undefined) && patched(GRACE_FROM_WORKER_PATCH)
      ? (await local('The configured grace period').closeSettings()).graceHours
      : DEFAULT_CLOSE_GRACE_HOURS;
  const graceHours = Math.max(...pending.map((p) => p.graceHours ?? configuredGraceHours));

  const oneRead = patched(CLOSE_IN_ONE_READ_PATCH);
  // Before the patch, the terms were read alone here, and the usage and late months further on.
  const read = async (): Promise<Pick<CloseInputs, 'terms'> & Partial<CloseInputs>> =>
    oneRead
      ? local(`Terms and usage of ${period}`).loadCloseInputs({ subscriberId, period })
      : { terms: await local(`Terms of ${period}`).loadCycleTerms({ subscriberId, period }) };
  let inputs = await read();
  const closeAtMs = inputs.terms.periodEndMs + graceHours * 3_600_000;
  // Terminated after the month ended: it closes as usual, then the next run ends with its month so far.
  if (ending && Date.now() >= inputs.terms.periodEndMs) ending = false;
  if (Date.now() < closeAtMs && !ending) {
    show('waiting-for-period-end', `Closes at ${new Date(closeAtMs).toISOString()} (month end in ${inputs.terms.timezone} + ${graceHours} h grace).`);
    await sleep(closeAtMs - Date.now());
    inputs = await read();
  }
  const { terms } = inputs;
  const usage = inputs.usage ?? (await local(`Usage of ${period}`).collectUsage({ subscriberId, period, roundingIncrementSeconds: terms.policy.roundingIncrementSeconds }));
  const rating = rateCycle(usage, {
    period,
    rules: terms.policy,
    monthlyFeeCents: terms.monthlyFeeCents,
    plan: terms.plan ?? undefined,
    limitMinutes: terms.limitMinutes ?? undefined,
  });
  show(
    'closing',
    `Rated under policy v${terms.policy.version}${terms.plan ? ` with a ${terms.plan.minutes}-minute plan` : ''}: ${rating.overageMinutes} min overage.`,
    rating.overageMinutes,
  );

  // Late calls of months already invoiced: exactly the difference they make, on this invoice.
  const adjustments: { period: string; line: InvoiceLine }[] = [];
  const lateMonths = inputs.lateMonths ?? (await local('Late calls of earlier months').collectLateMonths({ subscriberId, period }));
  for (const month of lateMonths) {
    const line = lateAdjustmentLine(month.period, overageCharge(month.usedSeconds, month.allowanceSeconds, month.overageRateMicros), month.billed, month.overageRateMicros);
    if (line) adjustments.push({ period: month.period, line });
  }
  const invoiceInput = {
    subscriberId,
    policy: terms.policy,
    rating: withExtraLines(
      rating,
      adjustments.map((a) => a.line),
    ),
    plan: terms.plan,
    overageCents: rating.lines.find((line) => line.kind === 'overage')?.amountCents ?? 0,
    adjustments: adjustments.map(({ period: adjusted, line }) => ({ period: adjusted, overageMinutes: line.quantity, amountCents: line.amountCents })),
  };
  // Since the patch, written and mailed in one local activity; before it, one each.
  const invoice = oneRead
    ? await localMail(`Invoice for ${period}, written and mailed`).recordAndMailInvoice(invoiceInput)
    : await local(`Invoice for ${period}`).recordInvoice(invoiceInput);
  if (!oneRead) await mail(`Invoice email for ${period}`).deliverEmail({ key: invoice.emailKey });

  // Recurring overage: a minute plan from the next cycle once the streak is long enough.
  let streak = extendStreak(input.streak ?? EMPTY_STREAK, period, rating.overageMinutes);
  const decision = planDecision(streak, terms.policy, terms.plan);
  if (decision && !ending) {
    const plan = await local(`Add the ${decision.plan.minutes}-minute plan`).addMinutePlan({
      subscriberId,
      effectivePeriod: nextPeriod(period),
      decision,
      previousPlan: terms.plan,
      currency: terms.policy.currency,
    });
    await mail('Minute plan email').deliverEmail({ key: plan.emailKey });
  }
  if (streakComplete(streak, terms.policy)) streak = EMPTY_STREAK;
  // A plan no longer needed: removed or stepped down from the next cycle. Runs recorded before the patch never reviewed it.
  let planFit = terms.plan ? input.planFit : undefined;
  if (terms.plan && !ending && patched('minute-plan-removal')) {
    const withoutPlan = overageMinutes(rating.usedSeconds, allowanceSeconds({ rules: terms.policy, limitMinutes: terms.limitMinutes ?? undefined, plan: undefined }));
    const review = reviewPlan(planFit ?? EMPTY_FIT_STREAK, period, withoutPlan, terms.plan, terms.policy);
    planFit = review.streak;
    if (review.reduction) {
      const change = await local(review.reduction.plan ? `Step down to the ${review.reduction.plan.minutes}-minute plan` : 'Remove the minute plan').reduceMinutePlan({
        subscriberId,
        effectivePeriod: nextPeriod(period),
        reduction: review.reduction,
        currency: terms.policy.currency,
      });
      await mail('Minute plan email').deliverEmail({ key: change.emailKey });
    }
  }

  await condition(allHandlersFinished);
  if (ending) {
    show(
      'terminated',
      `Subscription terminated (abuse case ${termination!.caseId}): final invoice ${invoice.invoiceId} for ${period} so far. No further cycles.`,
      rating.overageMinutes,
    );
    return;
  }
  const following = nextPeriod(period);
  // Since the patch, the next run starts with its month's attributes: no upsert in its first task.
  const continueWith = oneRead
    ? makeContinueAsNewFunc<typeof legacySubscriberWorkflow>({ typedSearchAttributes: cycleAttributes(subscriberId, following, 'open', 0) })
    : continueAsNew<typeof legacySubscriberWorkflow>;
  await continueWith({
    subscriberId,
    period: following,
    pendingCloses: pending.filter((p) => comparePeriods(p.period, following) >= 0),
    closedCycles: (input.closedCycles ?? 0) + 1,
    streak,
    ...(planFit?.periods.length ? { planFit } : {}),
    ...(limit && (limit.untilPeriod === null || comparePeriods(following, limit.untilPeriod) <= 0) ? { limit } : {}),
    ...(suspension ? { suspension } : {}),
    ...(termination ? { termination } : {}),
    lastInvoice: {
      invoiceId: invoice.invoiceId,
      period,
      usedSeconds: rating.usedSeconds,
      overageMinutes: rating.overageMinutes,
      totalCents: rating.totalCents,
    },
  });
}

/** The search attributes of a cycle in a given state (README, "Inspecting runs"). */
export function cycleAttributes(subscriberId: string, period: string, state: CycleState, overageMinutes?: number): SearchAttributePair[] {
  return [
    { key: SubscriberIdKey, value: subscriberId },
    { key: BillingPeriodKey, value: period },
    { key: CycleStateKey, value: state },
    ...(overageMinutes === undefined ? [] : [{ key: OverageMinutesKey, value: overageMinutes }]),
  ] as SearchAttributePair[];
}

export function closeRequestProblem(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return `closeCycle needs {"period": "YYYY-MM"}, got ${JSON.stringify(payload)}`;
  const { period, graceHours } = payload as Partial<CloseCyclePayload>;
  if (typeof period !== 'string' || !isValidPeriod(period)) return `closeCycle period ${JSON.stringify(period)} is not a month written YYYY-MM`;
  if (graceHours !== undefined && !(Number.isInteger(graceHours) && graceHours >= 0 && graceHours <= 24 * 14)) {
    return `closeCycle graceHours ${JSON.stringify(graceHours)} must be a whole number of hours from 0 to 336`;
  }
  return undefined;
}

export function limitChangeProblem(payload: unknown): string | undefined {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<LimitChangedPayload>;
  if (
    typeof p.requestId !== 'string' ||
    typeof p.minutes !== 'number' ||
    !Number.isSafeInteger(p.minutes) ||
    p.minutes <= 0 ||
    typeof p.fromPeriod !== 'string' ||
    !isValidPeriod(p.fromPeriod) ||
    !(p.untilPeriod === null || (typeof p.untilPeriod === 'string' && isValidPeriod(p.untilPeriod)))
  ) {
    return `limitChanged needs {"requestId", "minutes", "fromPeriod": "YYYY-MM", "untilPeriod": "YYYY-MM" or null}, got ${JSON.stringify(payload)}`;
  }
  return undefined;
}
