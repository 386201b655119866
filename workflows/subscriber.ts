/**
 * subscriber-<id>: one subscriber's billing cycle, one run per calendar month (DESIGN,
 * "Processes"). The run waits for its month to be closed, waits until the month is over in the
 * subscriber's zone plus a grace period for late records, has its invoice rated and written from
 * exactly the calls the invoice marks (so a call imported during the close is late, never lost),
 * mails it from the outbox without holding the cycle up, decides on a minute plan, then continues
 * as new with the next month, so the history stays small however long the subscription lasts.
 *
 * A termination (an abuse case's recorded decision) ends the subscription with a final invoice
 * for the month so far, prorated to the days of service; late calls of the last months are billed
 * on final adjustment invoices in the months after.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  log,
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { cycleDetails, cycleSummary, invoicedText, lastInvoiceText, planChangeText, terminatedText, type InvoiceFigures } from '../billing/cycle-details';
import { EMPTY_FIT_STREAK, EMPTY_STREAK, extendStreak, planDecision, reviewPlan, streakComplete } from '../billing/minute-plans';
import { overageMinutes } from '../billing/rating';
import { comparePeriods, nextPeriod } from '../billing/periods';
import type { WrittenInvoice } from '../activities/cycle';
import { local, localMail, mail } from './activity-proxies';
import { deliverEmailsWorkflow } from './email-delivery';
import {
  closeCycleSignal,
  limitChangedSignal,
  resumeSignal,
  statusQuery,
  suspendSignal,
  terminateSignal,
  SUMMARY_MEMO,
  type CloseCyclePayload,
  type CycleState,
  type LimitChangedPayload,
  type SubscriberStatus,
  type SuspendPayload,
  type TerminatePayload,
} from './messages';
import { closeRequestProblem, cycleAttributes, DEFAULT_CLOSE_GRACE_HOURS, legacySubscriberWorkflow, limitChangeProblem, type SubscriberCycleInput } from './subscriber-legacy';

export { DEFAULT_CLOSE_GRACE_HOURS, type SubscriberCycleInput };

/**
 * Patch: the invoice is rated in the transaction that writes it, from the calls it marks; its mail
 * goes out on its own schedule; terminations and suspensions are confirmed against the abuse case
 * and prorated; a close that can never succeed fails visibly. Runs from before it go on as they
 * began (workflows/subscriber-legacy.ts).
 */
export const MARKED_CALLS_PATCH = 'invoice-rates-marked-calls';

/**
 * Patch: the Temporal UI reads every run alike. Each run carries its summary in the memo (set by
 * the first run, passed on at continue-as-new); a month's run shows `invoiced` once its invoice is
 * written (not `closing`), which the closed run keeps; the next run is told the invoice's currency.
 * Before it, a closed run stayed `closing` and continued runs had no summary.
 */
export const INVOICED_STATE_PATCH = 'cycle-ends-invoiced';

/** Months after a termination in which late calls of the last months still get an invoice. */
export const FINAL_ADJUSTMENT_MONTHS = 3;

export async function subscriberWorkflow(input: SubscriberCycleInput): Promise<void> {
  if (!patched(MARKED_CALLS_PATCH)) return legacySubscriberWorkflow(input);
  const { subscriberId, period } = input;
  let state: CycleState = 'open';
  let details = '';
  // One upsert per change of state, skipped when it changes nothing (each is a visibility write).
  const show = (next: CycleState, text: string, overageMinutes?: number): void => {
    state = next;
    details = text;
    const pairs = cycleAttributes(subscriberId, period, next, overageMinutes);
    const current = workflowInfo().typedSearchAttributes;
    if (!pairs.every(({ key, value }) => current.get(key) === value)) upsertSearchAttributes(pairs);
    setCurrentDetails(cycleDetails(subscriberId, period, next, text));
  };
  // The summary every run shows: the first run records it in its memo, the next ones are given it.
  const summary = cycleSummary(subscriberId);
  if (workflowInfo().memo?.[SUMMARY_MEMO] !== summary && patched(INVOICED_STATE_PATCH)) upsertMemo({ [SUMMARY_MEMO]: summary });
  show('open', lastInvoiceText(input.lastInvoice), 0);

  const pending: CloseCyclePayload[] = [...(input.pendingCloses ?? [])];
  const rejectedSignals: string[] = [];
  const reject = (problem: string): void => {
    rejectedSignals.push(problem);
    log.warn('signal rejected', { problem });
  };
  let closeSignals = 0;
  let limit: LimitChangedPayload | undefined = input.limit;
  let suspension: SuspendPayload | undefined = input.suspension;
  let termination: TerminatePayload | undefined = input.termination;
  let terminatedAtMs: number | undefined = input.terminatedAtMs;

  // An abuse case's decision reaches the cycle as a signal that anyone can send from the UI or the
  // temporal CLI: it acts only once PostgreSQL shows the named case decided that way.
  const claims: { kind: 'suspend' | 'terminate'; payload: SuspendPayload | TerminatePayload }[] = [];
  let confirming = false;
  setHandler(suspendSignal, (payload) => {
    const problem = holdPayloadProblem('suspend', payload);
    if (problem) reject(problem);
    else claims.push({ kind: 'suspend', payload });
  });
  setHandler(terminateSignal, (payload) => {
    const problem = holdPayloadProblem('terminate', payload);
    if (problem) reject(problem);
    else if (!termination) claims.push({ kind: 'terminate', payload });
  });
  setHandler(resumeSignal, (payload) => {
    if (typeof payload !== 'object' || payload === null || typeof payload.caseId !== 'string') {
      reject(`resume needs {"caseId"}, got ${JSON.stringify(payload)}`);
      return;
    }
    if (suspension?.caseId === payload.caseId) suspension = undefined;
  });
  const confirmHolds = async (): Promise<void> => {
    for (;;) {
      await condition(() => claims.length > 0);
      confirming = true;
      const claim = claims.shift()!;
      const hold = await local(`Confirm the ${claim.kind} of case ${claim.payload.caseId}`).confirmAccountHold({
        subscriberId,
        caseId: claim.payload.caseId,
        kind: claim.kind === 'suspend' ? 'suspended' : 'terminated',
      });
      if (!hold.confirmed) reject(`${claim.kind} for case ${JSON.stringify(claim.payload.caseId)} ignored: ${hold.reason}`);
      else if (claim.kind === 'suspend') suspension = claim.payload as SuspendPayload;
      else if (!termination) {
        termination = claim.payload as TerminatePayload;
        terminatedAtMs = hold.startsAtMs;
      }
      confirming = false;
    }
  };
  void confirmHolds();

  setHandler(limitChangedSignal, (payload) => {
    const problem = limitChangeProblem(payload);
    if (problem) reject(problem);
    else limit = payload;
  });
  setHandler(closeCycleSignal, (payload) => {
    const problem = closeRequestProblem(payload);
    if (problem) {
      reject(problem);
      return;
    }
    closeSignals += 1;
    if (comparePeriods(payload.period, period) < 0) {
      log.info('closeCycle for a month already closed: nothing to do', { requested: payload.period, current: period });
      return;
    }
    pending.push(payload);
  });
  let closeFailure: string | undefined;
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
    ...(closeFailure ? { closeFailure } : {}),
    details,
  }));

  // Closing a later month closes this one first: a month is billed only after all before it.
  const closeRequested = (): boolean => pending.some((p) => comparePeriods(p.period, period) >= 0);
  await condition(() => closeRequested() || termination !== undefined);
  // A termination closes the month in progress now, for good, prorated to the day it took effect.
  let ending = termination !== undefined;
  // A close asked without a grace period of its own (a termination's, or a signal typed by hand)
  // waits the worker's configured one (BILLING_CLOSE_GRACE_HOURS), as the month close's requests do.
  const configuredGraceHours =
    pending.length === 0 || pending.some((p) => p.graceHours === undefined) ? (await local('The configured grace period').closeSettings()).graceHours : DEFAULT_CLOSE_GRACE_HOURS;
  const graceHours = pending.length === 0 ? configuredGraceHours : Math.max(...pending.map((p) => p.graceHours ?? configuredGraceHours));

  // A close that meets a fact it can never process (no policy in effect, the subscriber gone)
  // fails visibly: recorded for the month close's progress and summary, then it waits for the
  // next close request to try again instead of retrying for ever.
  let invoice: WrittenInvoice;
  // The subscription ends: the final invoice (if any) is written; late calls of the last months
  // go on final adjustment invoices for a few months, then the cycle stops.
  const endSubscription = async (final: WrittenInvoice | null): Promise<void> => {
    show('terminated', terminatedText(termination?.caseId, period, final && figuresOf(final), FINAL_ADJUSTMENT_MONTHS), final?.overageMinutes ?? 0);
    await finalAdjustments(subscriberId, period, graceHours);
    await condition(() => claims.length === 0 && !confirming);
    await condition(allHandlersFinished);
  };
  for (;;) {
    try {
      // One local activity when the month is over (the month close's hot path); before, it says
      // when the close is due and the run sleeps until then. A termination after the month ended
      // lets it close as usual (not final); the next run ends with its month so far.
      let step = await localMail(`Invoice for ${period}`).closeCycleWhenDue({
        subscriberId,
        period,
        nowMs: Date.now(),
        graceHours,
        ...(ending && terminatedAtMs !== undefined ? { serviceEndMs: terminatedAtMs } : {}),
      });
      if (!step.due) {
        show('waiting-for-period-end', `Closes at ${new Date(step.closeAtMs).toISOString()} (month end in ${step.timezone} + ${graceHours} h grace).`);
        await sleep(step.closeAtMs - Date.now());
        // A termination confirmed meanwhile that took effect within the month makes it the last.
        step = await localMail(`Invoice for ${period}`).closeCycleWhenDue({
          subscriberId,
          period,
          nowMs: Date.now(),
          graceHours,
          ...(terminatedAtMs !== undefined ? { serviceEndMs: terminatedAtMs } : {}),
        });
      }
      if (!step.due || (!step.invoice && !step.final)) throw new Error(`no invoice was written for ${period}`);
      ending = step.final;
      if (!step.invoice) {
        // Terminated before this month began, with no late calls to bill: nothing to invoice.
        await endSubscription(null);
        return;
      }
      invoice = step.invoice;
      closeFailure = undefined;
      break;
    } catch (error) {
      const reason = permanentFailure(error);
      if (reason === undefined) throw error;
      closeFailure = reason;
      await local(`Record the failed close of ${period}`).recordCloseFailure({ subscriberId, period, reason });
      show('close-failed', `The close of ${period} cannot go on: ${reason}. It is tried again at the next close request.`);
      const seen = closeSignals;
      await condition(() => closeSignals > seen);
    }
  }
  // Invoiced: the state the closed run keeps once it continues as new (before the patch, `closing`).
  let invoicedDetails = invoicedText({ ...figuresOf(invoice), policyVersion: invoice.policy.version, planMinutes: invoice.plan?.minutes ?? null });
  show(ending ? 'terminated' : patched(INVOICED_STATE_PATCH) ? 'invoiced' : 'closing', invoicedDetails, invoice.overageMinutes);
  await mailLater(invoice);

  // Recurring overage: a minute plan from the next cycle once the streak is long enough.
  let streak = extendStreak(input.streak ?? EMPTY_STREAK, period, invoice.overageMinutes);
  const decision = planDecision(streak, invoice.policy, invoice.plan);
  if (decision && !ending) {
    const plan = await local(`Add the ${decision.plan.minutes}-minute plan`).addMinutePlan({
      subscriberId,
      effectivePeriod: nextPeriod(period),
      decision,
      previousPlan: invoice.plan,
      currency: invoice.policy.currency,
    });
    await mail('Minute plan email').deliverEmail({ key: plan.emailKey });
    invoicedDetails += ` ${planChangeText(decision.plan.minutes, nextPeriod(period))}`;
    show(state, invoicedDetails, invoice.overageMinutes);
  }
  if (streakComplete(streak, invoice.policy)) streak = EMPTY_STREAK;
  // A plan no longer needed (DESIGN, "minute plan"): removed or stepped down from the next cycle.
  let planFit = invoice.plan ? input.planFit : undefined;
  if (invoice.plan && !ending) {
    const review = reviewPlan(planFit ?? EMPTY_FIT_STREAK, period, overageMinutes(invoice.usedSeconds, invoice.allowanceWithoutPlanSeconds), invoice.plan, invoice.policy);
    planFit = review.streak;
    if (review.reduction) {
      const change = await local(review.reduction.plan ? `Step down to the ${review.reduction.plan.minutes}-minute plan` : 'Remove the minute plan').reduceMinutePlan({
        subscriberId,
        effectivePeriod: nextPeriod(period),
        reduction: review.reduction,
        currency: invoice.policy.currency,
      });
      await mail('Minute plan email').deliverEmail({ key: change.emailKey });
      invoicedDetails += ` ${planChangeText(review.reduction.plan?.minutes ?? null, nextPeriod(period))}`;
      show(state, invoicedDetails, invoice.overageMinutes);
    }
  }

  if (ending) {
    await endSubscription(invoice);
    return;
  }

  await condition(() => claims.length === 0 && !confirming);
  await condition(allHandlersFinished);
  const following = nextPeriod(period);
  // The next run starts with its month's attributes: no upsert in its first task; since the patch,
  // with the summary in its memo and the invoice's currency.
  const carried = patched(INVOICED_STATE_PATCH);
  const continueWith = makeContinueAsNewFunc<typeof subscriberWorkflow>({
    typedSearchAttributes: cycleAttributes(subscriberId, following, 'open', 0),
    ...(carried ? { memo: { ...workflowInfo().memo, [SUMMARY_MEMO]: summary } } : {}),
  });
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
    ...(terminatedAtMs !== undefined ? { terminatedAtMs } : {}),
    lastInvoice: {
      invoiceId: invoice.invoiceId,
      period,
      usedSeconds: invoice.usedSeconds,
      overageMinutes: invoice.overageMinutes,
      totalCents: invoice.totalCents,
      ...(carried ? { currency: invoice.policy.currency } : {}),
    },
  });
}

/** An invoice as the details name it, with its currency. */
function figuresOf(invoice: Pick<WrittenInvoice, 'invoiceId' | 'totalCents' | 'overageMinutes' | 'policy'>): InvoiceFigures {
  return { invoiceId: invoice.invoiceId, totalCents: invoice.totalCents, overageMinutes: invoice.overageMinutes, currency: invoice.policy.currency };
}

/**
 * The invoice's email, when trying it once with the invoice did not get it out: delivered from the
 * outbox by its own workflow, with its own retries, while the cycle goes on. A permanently refused
 * address is recorded on the outbox row and ops are told; the invoice stands either way.
 */
async function mailLater(invoice: Pick<WrittenInvoice, 'invoiceId' | 'emailKey' | 'mail'>): Promise<void> {
  if (invoice.mail !== 'pending') return;
  await startChild(deliverEmailsWorkflow, {
    workflowId: `invoice-email-${invoice.invoiceId}`,
    args: [{ keys: [invoice.emailKey] }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    staticSummary: `Invoice ${invoice.invoiceId}: its email, retried until the mail server takes it`,
  });
}

/**
 * After a termination, late calls of the last months (DESIGN, "late usage") go on a final
 * adjustment invoice of the month they are found in, keyed like any invoice, once; a month with
 * none writes nothing.
 */
async function finalAdjustments(subscriberId: string, lastPeriod: string, graceHours: number): Promise<void> {
  let month = lastPeriod;
  for (let i = 0; i < FINAL_ADJUSTMENT_MONTHS; i += 1) {
    month = nextPeriod(month);
    let step = await localMail(`Final adjustment invoice for ${month}`).closeCycleWhenDue({ subscriberId, period: month, finalAdjustment: true, nowMs: Date.now(), graceHours });
    if (!step.due) {
      await sleep(step.closeAtMs - Date.now());
      step = await localMail(`Final adjustment invoice for ${month}`).closeCycleWhenDue({ subscriberId, period: month, finalAdjustment: true, nowMs: Date.now(), graceHours });
    }
    const adjustment = step.due ? step.invoice : null;
    if (adjustment) await mailLater(adjustment);
  }
}

/**
 * The reason of a failure that no retry can mend: an activity's non-retryable application failure
 * (wrapped as the activity's failure, or as it is for a local activity), else undefined.
 */
function permanentFailure(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = (e as Error & { cause?: unknown }).cause, depth += 1) {
    if (e instanceof ApplicationFailure && e.nonRetryable) return e.message;
  }
  return undefined;
}

function holdPayloadProblem(kind: 'suspend' | 'terminate', payload: unknown): string | undefined {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const shape = kind === 'suspend' ? '{"caseId", "reason", "until": ISO time or null}' : '{"caseId", "reason"}';
  if (typeof p.caseId !== 'string' || p.caseId.trim() === '' || typeof p.reason !== 'string') return `${kind} needs ${shape}, got ${JSON.stringify(payload)}`;
  if (kind === 'suspend' && !(p.until === null || p.until === undefined || (typeof p.until === 'string' && !Number.isNaN(Date.parse(p.until))))) {
    return `${kind} needs ${shape}, got ${JSON.stringify(payload)}`;
  }
  return undefined;
}
