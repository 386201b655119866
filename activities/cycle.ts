/** The I/O of closing one subscriber's cycle: read its terms and usage, write its invoice. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { invoiceEmail } from '../billing/emails';
import { periodBounds } from '../billing/periods';
import type { PolicyVersion } from '../billing/policy';
import { invoiceIdFor, roundUsage, type CycleRating, type CycleUsage } from '../billing/rating';
import { recordInvoiceOnce } from '../db/invoices';
import { policyInEffectOn } from '../db/policies';
import { getSubscriber } from '../db/subscribers';
import { countedDurations } from '../db/usage';

export interface CycleTerms {
  subscriberId: string;
  timezone: string;
  monthlyFeeCents: number;
  serviceStart: string;
  periodEndMs: number;
  policy: PolicyVersion;
}

export function createCycleActivities(pool: Pool) {
  return {
    /** The subscriber's terms for a period, under the policy version in effect when it began. */
    async loadCycleTerms(input: { subscriberId: string; period: string }): Promise<CycleTerms> {
      const subscriber = await getSubscriber(pool, input.subscriberId);
      if (!subscriber) {
        throw ApplicationFailure.nonRetryable(`subscriber ${input.subscriberId} does not exist`, 'UnknownSubscriber');
      }
      const policy = await policyInEffectOn(pool, `${input.period}-01`);
      return {
        subscriberId: subscriber.id,
        timezone: subscriber.timezone,
        monthlyFeeCents: subscriber.monthlyFeeCents,
        serviceStart: subscriber.serviceStart,
        periodEndMs: periodBounds(input.period, subscriber.timezone).endMs,
        policy,
      };
    },

    /** The period's counted usage, rounded per call by the policy's increment. */
    async collectUsage(input: { subscriberId: string; period: string; roundingIncrementSeconds: number }): Promise<CycleUsage> {
      const durations = await countedDurations(pool, input.subscriberId, input.period);
      return roundUsage(durations, input.roundingIncrementSeconds);
    },

    /** Writes the invoice and queues its email, once per subscriber and period. */
    async recordInvoice(input: { subscriberId: string; policy: PolicyVersion; rating: CycleRating }): Promise<{ invoiceId: string; created: boolean; emailKey: string }> {
      const subscriber = await getSubscriber(pool, input.subscriberId);
      if (!subscriber) {
        throw ApplicationFailure.nonRetryable(`subscriber ${input.subscriberId} does not exist`, 'UnknownSubscriber');
      }
      const { rating, policy } = input;
      const invoiceId = invoiceIdFor(subscriber.id, rating.period);
      const content = invoiceEmail({
        invoiceId,
        subscriberId: subscriber.id,
        subscriberName: subscriber.name,
        period: rating.period,
        currency: policy.currency,
        usedSeconds: rating.usedSeconds,
        allowanceSeconds: rating.allowanceSeconds,
        overageMinutes: rating.overageMinutes,
        overageRateMicros: policy.overageRateMicros,
        lines: rating.lines,
        totalCents: rating.totalCents,
      });
      const result = await recordInvoiceOnce(
        pool,
        { id: invoiceId, subscriberId: subscriber.id, period: rating.period, policyVersion: policy.version, currency: policy.currency, overageRateMicros: policy.overageRateMicros, rating },
        { to: subscriber.email, content },
      );
      return { invoiceId, ...result };
    },
  };
}
