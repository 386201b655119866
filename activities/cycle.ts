/** The I/O of closing one subscriber's cycle: read its terms and usage, write its invoice and plan. */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { invoiceEmail, minutePlanEmail, minutePlanReductionEmail } from '../billing/emails';
import { buildInvoiceDocument, invoicePdfName, type Seller } from '../billing/invoice-document';
import type { OverageStreak, PlanDecision, PlanReduction } from '../billing/minute-plans';
import { periodBounds, startOfDayMs } from '../billing/periods';
import { dayOf } from '../billing/policy-revision';
import { DEFAULT_POLICY_RULES, type MinutePlan, type PolicyVersion } from '../billing/policy';
import { allowanceSeconds, invoiceIdFor, roundUsage, type CycleRating, type CycleUsage } from '../billing/rating';
import { priceInvoice, termsForPeriod, type PeriodFacts } from '../billing/terms';
import { monthsWithLateCalls, recordInvoiceOnce, recordRatedInvoiceOnce, type InvoiceEmail, type NewInvoice } from '../db/invoices';
import { addPlanOnce, reducePlanOnce } from '../db/plans';
import { NoPolicyInEffectError, policyVersion } from '../db/policies';
import { getSubscriber, type Subscriber } from '../db/subscribers';
import { periodFacts, type PeriodFactsOptions } from '../db/terms';
import { countedDurations } from '../db/usage';
import { countInvoiceWritten } from '../telemetry/metrics';

export interface CycleTerms {
  subscriberId: string;
  timezone: string;
  monthlyFeeCents: number;
  serviceStart: string;
  periodEndMs: number;
  policy: PolicyVersion;
  plan: MinutePlan | null;
  /** An approved raised limit replacing the policy's included minutes this month, or null. */
  limitMinutes: number | null;
}

/** A month invoiced earlier whose late calls change its overage: as billed, and as it rates now. */
export interface LateMonth {
  period: string;
  overageRateMicros: number;
  usedSeconds: number;
  allowanceSeconds: number;
  billed: { minutes: number; cents: number };
}

export interface RecordInvoiceInput {
  subscriberId: string;
  policy: PolicyVersion;
  rating: CycleRating;
  plan: MinutePlan | null;
  overageCents: number;
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
}

export interface RecordedInvoice {
  invoiceId: string;
  created: boolean;
  emailKey: string;
}

/** What the workflow learns of an invoice written from the calls it marked. */
export interface WrittenInvoice extends RecordedInvoice {
  period: string;
  usedSeconds: number;
  allowanceSeconds: number;
  overageMinutes: number;
  totalCents: number;
  /** The terms the minute-plan decision needs: the policy's plan rules, and the plan carried. */
  policy: PlanPolicy;
  plan: MinutePlan | null;
  /** The month's allowance as it would be without the plan: whether the usage fit without it. */
  allowanceWithoutPlanSeconds: number;
  /**
   * Its email, tried once with the invoice: sent (or sent before), refused for good (recorded on
   * the outbox row, ops told), or still pending after a transient failure (the workflow leaves it
   * to its own delivery).
   */
  mail: 'sent' | 'failed' | 'pending';
}

/**
 * The policy as the minute-plan decisions read it (billing/minute-plans.ts). Histories recorded
 * before it was narrowed carry the whole policy version, a superset the workflow reads the same.
 */
export type PlanPolicy = Pick<PolicyVersion, 'version' | 'currency' | 'planStreakCycles' | 'planCatalog'>;

export function planPolicyOf(policy: PolicyVersion): PlanPolicy {
  return { version: policy.version, currency: policy.currency, planStreakCycles: policy.planStreakCycles, planCatalog: policy.planCatalog };
}

/** Where a period's close stands: not due yet (and when it is), or done, with its invoice. */
export type CloseStep = { due: false; final: boolean; closeAtMs: number; timezone: string } | { due: true; final: boolean; invoice: WrittenInvoice | null };

export interface WriteInvoiceInput {
  subscriberId: string;
  period: string;
  /** A termination: service ended at this instant (epoch ms); the period is the last one, prorated. */
  serviceEndMs?: number;
  /** An invoice after the subscription ended: only the late calls of earlier months, no fee. */
  finalAdjustment?: boolean;
  /** The issue date (YYYY-MM-DD, UTC); default the day of the write. */
  issueDate?: string;
}

export interface CloseInputs {
  terms: CycleTerms;
  usage: CycleUsage;
  lateMonths: LateMonth[];
}

/** Sends one outbox email at most once (activities/mail.ts). */
export type DeliverEmail = (key: string) => Promise<'sent' | 'already-sent' | 'withdrawn' | 'failed'>;

/**
 * The payment terms of an invoice under a policy version. Versions carried in the histories of runs
 * started before the terms were a policy parameter lack them: the default then, as the migration
 * gave every stored version.
 */
const paymentTermsOf = (policy: PolicyVersion): number => policy.paymentTermsDays ?? DEFAULT_POLICY_RULES.paymentTermsDays;

/**
 * The invoice's email, composed in its write's transaction once its number and dates are assigned
 * (db/invoices.ts): the invoice document in the body, and its PDF attached, rendered when sent.
 */
function invoiceEmailOf(invoice: NewInvoice, subscriber: Subscriber, seller: Seller): InvoiceEmail {
  const r = invoice.rating;
  return {
    to: subscriber.email,
    compose: (numbering) => {
      const document = buildInvoiceDocument({
        invoice: {
          id: invoice.id,
          ...numbering,
          period: invoice.period,
          currency: invoice.currency,
          usedSeconds: r.usedSeconds,
          allowanceSeconds: r.allowanceSeconds,
          overageMinutes: r.overageMinutes,
          totalCents: r.totalCents,
          lines: r.lines,
          adjustments: invoice.adjustments,
        },
        seller,
        buyer: subscriber,
      });
      const content = invoiceEmail({
        document,
        subscriberId: subscriber.id,
        subscriberName: subscriber.name,
        overageMinutes: r.overageMinutes,
        overageRateMicros: invoice.overageRateMicros,
      });
      return { ...content, attachments: [{ filename: invoicePdfName(document), invoiceDocument: document }] };
    },
  };
}

export function createCycleActivities(pool: Pool, deliver: DeliverEmail, seller: Seller) {
  async function subscriberOrFail(id: string): Promise<Subscriber> {
    const subscriber = await getSubscriber(pool, id);
    if (!subscriber) throw ApplicationFailure.nonRetryable(`subscriber ${id} does not exist`, 'UnknownSubscriber');
    return subscriber;
  }

  /** The subscriber's terms for a period, under the policy version in effect when it began. */
  async function loadCycleTerms(input: { subscriberId: string; period: string }): Promise<CycleTerms> {
    const subscriber = await subscriberOrFail(input.subscriberId);
    const facts = await factsOrFail(subscriber, input.period);
    const terms = termsForPeriod(facts);
    return {
      subscriberId: subscriber.id,
      timezone: subscriber.timezone,
      monthlyFeeCents: subscriber.monthlyFeeCents,
      serviceStart: subscriber.serviceStart,
      periodEndMs: periodBounds(input.period, subscriber.timezone).endMs,
      policy: facts.policy,
      plan: facts.plan,
      limitMinutes: terms.limitMinutes ?? null,
    };
  }

  /** The period's counted usage, rounded per call by the policy's increment. */
  async function collectUsage(input: { subscriberId: string; period: string; roundingIncrementSeconds: number }): Promise<CycleUsage> {
    const durations = await countedDurations(pool, input.subscriberId, input.period);
    return roundUsage(durations, input.roundingIncrementSeconds);
  }

  /** Earlier invoiced months with late calls, each re-rated under its own terms. */
  async function collectLateMonths(input: { subscriberId: string; period: string }): Promise<LateMonth[]> {
    const months = await monthsWithLateCalls(pool, input.subscriberId, input.period);
    const out: LateMonth[] = [];
    for (const month of months) {
      const policy = await policyVersion(pool, month.policyVersion);
      const usage = roundUsage(await countedDurations(pool, input.subscriberId, month.period), policy.roundingIncrementSeconds);
      out.push({
        period: month.period,
        overageRateMicros: policy.overageRateMicros,
        usedSeconds: usage.billableSeconds,
        // Re-rated under its invoice's terms: the allowance it was invoiced with (a partial month's prorated).
        allowanceSeconds: month.allowanceSeconds,
        billed: { minutes: month.billedMinutes, cents: month.billedCents },
      });
    }
    return out;
  }

  /** Writes the invoice and queues its email, once per subscriber and period. */
  async function recordInvoice(input: RecordInvoiceInput): Promise<RecordedInvoice> {
    const subscriber = await subscriberOrFail(input.subscriberId);
    const { rating, policy } = input;
    const invoiceId = invoiceIdFor(subscriber.id, rating.period);
    const invoice: NewInvoice = {
      id: invoiceId,
      subscriberId: subscriber.id,
      period: rating.period,
      policyVersion: policy.version,
      currency: policy.currency,
      overageRateMicros: policy.overageRateMicros,
      rating,
      plan: input.plan,
      overageCents: input.overageCents,
      adjustments: input.adjustments,
      paymentTermsDays: paymentTermsOf(policy),
    };
    const result = await recordInvoiceOnce(pool, invoice, invoiceEmailOf(invoice, subscriber, seller));
    if (result.created) countInvoiceWritten({ currency: policy.currency, totalCents: rating.totalCents, overageMinutes: rating.overageMinutes });
    return { invoiceId, ...result };
  }

  /**
   * Rates and writes the invoice of a period once, from exactly the calls it marks in the same
   * transaction (db/invoices.ts recordRatedInvoiceOnce), with the late calls of earlier months.
   */
  async function writeInvoice(input: WriteInvoiceInput): Promise<WrittenInvoice | null> {
    return writeInvoiceOf(await subscriberOrFail(input.subscriberId), input);
  }

  async function writeInvoiceOf(subscriber: Subscriber, input: WriteInvoiceInput): Promise<WrittenInvoice | null> {
    const facts = await factsOrFail(subscriber, input.period, input.serviceEndMs === undefined ? {} : { serviceEndMs: input.serviceEndMs });
    const { policy, plan } = facts;
    const terms = termsForPeriod(facts);
    const invoiceId = invoiceIdFor(subscriber.id, input.period);
    // Usage dated before the service start is kept but never rated (DESIGN, "partial months").
    const fromMs = startOfDayMs(subscriber.serviceStart, subscriber.timezone);
    const policies = new Map<number, PolicyVersion>([[policy.version, policy]]);
    const final = input.finalAdjustment === true;
    const written = await recordRatedInvoiceOnce(pool, { invoiceId, subscriberId: subscriber.id, period: input.period, fromMs, withOwnCalls: !final }, async (own, unbilled) => {
      const late = [];
      for (const month of unbilled) {
        if (!policies.has(month.policyVersion)) policies.set(month.policyVersion, await policyVersion(pool, month.policyVersion));
        late.push({ ...month, roundingIncrementSeconds: policies.get(month.policyVersion)!.roundingIncrementSeconds });
      }
      const priced = priceInvoice(terms, own, late, { finalAdjustmentOnly: final });
      if (final && priced.adjustments.length === 0) return null;
      const invoice: NewInvoice = {
        id: invoiceId,
        subscriberId: subscriber.id,
        period: input.period,
        policyVersion: policy.version,
        currency: policy.currency,
        overageRateMicros: policy.overageRateMicros,
        rating: priced.rating,
        plan: final ? null : plan,
        overageCents: priced.overageCents,
        adjustments: priced.adjustments,
        paymentTermsDays: paymentTermsOf(policy),
        ...(input.issueDate ? { issueDate: input.issueDate } : {}),
      };
      return { invoice, email: invoiceEmailOf(invoice, subscriber, seller) };
    });
    if (!written) return null;
    const i = written.invoice;
    if (written.created) countInvoiceWritten({ currency: i.currency, totalCents: i.totalCents, overageMinutes: i.overageMinutes });
    return {
      invoiceId: i.id,
      created: written.created,
      emailKey: written.emailKey,
      period: i.period,
      usedSeconds: Number(i.usedSeconds),
      allowanceSeconds: Number(i.allowanceSeconds),
      overageMinutes: i.overageMinutes,
      totalCents: Number(i.totalCents),
      policy: planPolicyOf(policy),
      plan,
      allowanceWithoutPlanSeconds: allowanceSeconds({ ...terms, plan: undefined }),
      mail: await tryMailOnce(written.emailKey),
    };
  }

  /** One try at the invoice's email; a transient failure leaves it pending in the outbox. */
  async function tryMailOnce(key: string): Promise<'sent' | 'failed' | 'pending'> {
    try {
      const result = await deliver(key);
      return result === 'failed' ? 'failed' : 'sent';
    } catch (error) {
      log.warn('invoice email not sent yet; it is retried on its own', { key, error: String(error) });
      return 'pending';
    }
  }

  /** The facts of the subscriber's terms for the period; no policy in effect is a fact no retry mends. */
  async function factsOrFail(subscriber: Subscriber, period: string, options: PeriodFactsOptions = {}): Promise<PeriodFacts> {
    try {
      return await periodFacts(pool, subscriber, period, options);
    } catch (error) {
      if (error instanceof NoPolicyInEffectError) {
        throw ApplicationFailure.nonRetryable(`no policy version is in effect on ${period}-01: the month begins before the first policy version took effect`, 'NoPolicyInEffect');
      }
      throw error;
    }
  }

  return {
    loadCycleTerms,
    writeInvoice,

    /**
     * The close of a period in one local activity when it is due (the hot path of a month close:
     * one activation, the subscriber and the terms read once): not due before the month has ended in
     * the subscriber's zone plus the grace period, as of `nowMs` (the workflow's time, so that the
     * answer is recorded and replays); a termination within the period is due at once, its last
     * month prorated. Otherwise the invoice is written as by writeInvoice, issued on the day of
     * `nowMs` (UTC): the workflow's day, which under time skipping (`billing demo --months`) is
     * the simulated one, not the machine's.
     */
    async closeCycleWhenDue(input: WriteInvoiceInput & { nowMs: number; graceHours: number }): Promise<CloseStep> {
      const subscriber = await subscriberOrFail(input.subscriberId);
      const { startMs, endMs } = periodBounds(input.period, subscriber.timezone);
      const final = input.serviceEndMs !== undefined && input.serviceEndMs < endMs;
      const closeAtMs = endMs + input.graceHours * 3_600_000;
      if (!final && input.nowMs < closeAtMs) return { due: false, final, closeAtMs, timezone: subscriber.timezone };
      const { serviceEndMs, nowMs, graceHours: _grace, ...asked } = input;
      const rest = { ...asked, issueDate: dayOf(nowMs) };
      // Service that ended before the period began: no fee, only the late calls of earlier months.
      const endedBefore = serviceEndMs !== undefined && serviceEndMs < startMs;
      const invoice = await writeInvoiceOf(subscriber, endedBefore ? { ...rest, finalAdjustment: true } : { ...rest, ...(final ? { serviceEndMs } : {}) });
      return { due: true, final, invoice };
    },
    collectUsage,
    collectLateMonths,

    /**
     * Everything a close rates from, read in one local activity: the terms, the month's usage under
     * the terms' rounding, and the late months. One call instead of three is two workflow
     * activations fewer per subscriber at month close.
     */
    async loadCloseInputs(input: { subscriberId: string; period: string }): Promise<CloseInputs> {
      const terms = await loadCycleTerms(input);
      const [usage, lateMonths] = await Promise.all([collectUsage({ ...input, roundingIncrementSeconds: terms.policy.roundingIncrementSeconds }), collectLateMonths(input)]);
      return { terms, usage, lateMonths };
    },

    recordInvoice,

    /**
     * The invoice written and its email sent, in one local activity: one workflow activation per
     * subscriber fewer than writing and mailing apart. A retry finds the invoice already written
     * and the email already sent, so neither happens twice.
     */
    async recordAndMailInvoice(input: RecordInvoiceInput): Promise<RecordedInvoice> {
      const invoice = await recordInvoice(input);
      await deliver(invoice.emailKey);
      return invoice;
    },

    /** Records a minute plan from `effectivePeriod` and queues the subscriber's email, once. */
    async addMinutePlan(input: {
      subscriberId: string;
      effectivePeriod: string;
      decision: PlanDecision;
      previousPlan: MinutePlan | null;
      currency: string;
    }): Promise<{ emailKey: string }> {
      const subscriber = await subscriberOrFail(input.subscriberId);
      const streak: OverageStreak = input.decision.streak;
      const email = minutePlanEmail({
        subscriberId: subscriber.id,
        subscriberName: subscriber.name,
        effectivePeriod: input.effectivePeriod,
        plan: input.decision.plan,
        previousPlan: input.previousPlan,
        streak,
        averageOverageMinutes: input.decision.averageOverageMinutes,
        currency: input.currency,
      });
      const emailKey = await addPlanOnce(pool, {
        subscriberId: subscriber.id,
        effectivePeriod: input.effectivePeriod,
        plan: input.decision.plan,
        streak,
        to: subscriber.email,
        email,
      });
      return { emailKey };
    },

    /** Removes or steps down the minute plan from `effectivePeriod` and queues the subscriber's email, once. */
    async reduceMinutePlan(input: { subscriberId: string; effectivePeriod: string; reduction: PlanReduction; currency: string }): Promise<{ emailKey: string }> {
      const subscriber = await subscriberOrFail(input.subscriberId);
      const { plan, previousPlan, streak } = input.reduction;
      const email = minutePlanReductionEmail({
        subscriberId: subscriber.id,
        subscriberName: subscriber.name,
        effectivePeriod: input.effectivePeriod,
        plan,
        previousPlan,
        streak,
        currency: input.currency,
      });
      const emailKey = await reducePlanOnce(pool, { subscriberId: subscriber.id, effectivePeriod: input.effectivePeriod, plan, streak, to: subscriber.email, email });
      return { emailKey };
    },
  };
}
