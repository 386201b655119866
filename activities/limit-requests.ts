/** The I/O of a limit-increase request: its trail, its emails, the reviewer's standing and the granted limit. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  limitApprovedEmail,
  limitRejectedEmail,
  limitRequestAcknowledgedEmail,
  limitRequestExpiredEmail,
  limitRequestReminderEmail,
  limitRequestSupportNoticeEmail,
  type LimitRequestEmailData,
} from '../billing/limit-emails';
import type { LimitDecision, LimitGrant } from '../billing/limits';
import { nextPeriod, periodBounds } from '../billing/periods';
import { getLimitRequest, grantLimit, insertEvent, settleLimitRequest } from '../db/limit-requests';
import { enqueueEmail } from '../db/outbox';
import { getSubscriber, type Subscriber } from '../db/subscribers';

export function createLimitRequestActivities(pool: Pool, supportEmail: string) {
  async function load(requestId: string): Promise<{ data: LimitRequestEmailData; subscriber: Subscriber }> {
    const request = await getLimitRequest(pool, requestId);
    if (!request) throw ApplicationFailure.nonRetryable(`limit request ${requestId} does not exist`, 'UnknownLimitRequest');
    const subscriber = await getSubscriber(pool, request.subscriberId);
    if (!subscriber) throw ApplicationFailure.nonRetryable(`subscriber ${request.subscriberId} does not exist`, 'UnknownSubscriber');
    return {
      subscriber,
      data: {
        requestId,
        subscriberId: subscriber.id,
        subscriberName: subscriber.name,
        requestedMinutes: request.requestedMinutes,
        reason: request.reason,
        business: subscriber.business,
      },
    };
  }
  const key = (requestId: string, purpose: string): string => `limit-request:${requestId}:${purpose}`;

  return {
    /** Queues the subscriber's acknowledgement and support's notice, once each; returns their keys. */
    async queueLimitRequestNotices(input: { requestId: string; reminderHours: number; expiryDays: number; currentLimitMinutes: number }): Promise<string[]> {
      const { data, subscriber } = await load(input.requestId);
      const acknowledged = key(input.requestId, 'acknowledged');
      const notice = key(input.requestId, 'support-notice');
      await enqueueEmail(pool, {
        key: acknowledged,
        purpose: 'limit-request',
        subscriberId: subscriber.id,
        to: subscriber.email,
        ...limitRequestAcknowledgedEmail({ ...data, expiryDays: input.expiryDays }),
      });
      await enqueueEmail(pool, { key: notice, purpose: 'limit-request', subscriberId: subscriber.id, to: supportEmail, ...limitRequestSupportNoticeEmail({ ...data, ...input }) });
      return [acknowledged, notice];
    },

    /** Keeps a decision that changed nothing in the request's trail. */
    async recordInvalidDecision(input: { requestId: string; index: number; atMs: number; signal: string; payload: unknown; problem: string }): Promise<void> {
      const reviewer = (input.payload as { reviewer?: unknown } | null)?.reviewer;
      await insertEvent(pool, {
        key: `${input.requestId}:invalid:${input.index}`,
        requestId: input.requestId,
        atMs: input.atMs,
        actor: typeof reviewer === 'string' && reviewer !== '' ? reviewer.slice(0, 64) : 'unknown',
        kind: 'invalid-decision',
        detail: { signal: input.signal, payload: input.payload ?? null, problem: input.problem },
      });
    },

    /** Records the reminder and queues support's email, once; returns its key. */
    async queueLimitReminder(input: { requestId: string; atMs: number; hoursWaiting: number; expiresAtMs: number }): Promise<string> {
      const { data, subscriber } = await load(input.requestId);
      const emailKey = key(input.requestId, 'reminder');
      await enqueueEmail(pool, {
        key: emailKey,
        purpose: 'limit-request',
        subscriberId: subscriber.id,
        to: supportEmail,
        ...limitRequestReminderEmail({ ...data, hoursWaiting: input.hoursWaiting, expiresAt: new Date(input.expiresAtMs).toISOString() }),
      });
      await insertEvent(pool, {
        key: `${input.requestId}:reminded`,
        requestId: input.requestId,
        atMs: input.atMs,
        actor: 'system',
        kind: 'reminded',
        detail: { to: supportEmail, hoursWaiting: input.hoursWaiting },
      });
      return emailKey;
    },

    /** Records support's decision and queues the subscriber's email, once; returns its key. */
    async settleLimitDecision(input: { requestId: string; atMs: number; decision: LimitDecision; fromPeriod: string }): Promise<string> {
      const { data, subscriber } = await load(input.requestId);
      const d = input.decision;
      const content =
        d.kind === 'approve'
          ? limitApprovedEmail({ ...data, minutes: d.minutes, fromPeriod: input.fromPeriod, untilPeriod: d.untilPeriod, note: d.note })
          : limitRejectedEmail({ ...data, rejection: d.reason });
      const emailKey = key(input.requestId, 'decision');
      await settleLimitRequest(pool, {
        requestId: input.requestId,
        atMs: input.atMs,
        outcome: { kind: 'decision', decision: d },
        email: { key: emailKey, purpose: 'limit-request', subscriberId: subscriber.id, to: subscriber.email, ...content },
      });
      return emailKey;
    },

    /**
     * Records the approved limit the rating reads, once, with its trail step. Returns when it
     * stops applying: the start of the month after its end month in the subscriber's zone.
     */
    async applyLimit(input: { atMs: number; subscriberId: string; grant: LimitGrant }): Promise<{ endsAtMs: number | null }> {
      const { grant } = input;
      const subscriber = await getSubscriber(pool, input.subscriberId);
      if (!subscriber) throw ApplicationFailure.nonRetryable(`subscriber ${input.subscriberId} does not exist`, 'UnknownSubscriber');
      await grantLimit(pool, subscriber.id, grant);
      await insertEvent(pool, {
        key: `${grant.requestId}:applied`,
        requestId: grant.requestId,
        atMs: input.atMs,
        actor: 'system',
        kind: 'applied',
        detail: { minutes: grant.minutes, from: grant.fromPeriod, until: grant.untilPeriod },
      });
      return { endsAtMs: grant.untilPeriod === null ? null : periodBounds(nextPeriod(grant.untilPeriod), subscriber.timezone).startMs };
    },

    /** The approved limit's end month is over: the policy's limit applies again. */
    async recordLimitEnded(input: { requestId: string; atMs: number; untilPeriod: string }): Promise<void> {
      await insertEvent(pool, {
        key: `${input.requestId}:ended`,
        requestId: input.requestId,
        atMs: input.atMs,
        actor: 'system',
        kind: 'ended',
        detail: { until: input.untilPeriod },
      });
    },

    /** Marks the undecided request expired and queues the subscriber's email, once; returns its key. */
    async expireLimitRequest(input: { requestId: string; atMs: number; expiryDays: number }): Promise<string> {
      const { data, subscriber } = await load(input.requestId);
      const emailKey = key(input.requestId, 'expired');
      await settleLimitRequest(pool, {
        requestId: input.requestId,
        atMs: input.atMs,
        outcome: { kind: 'expired' },
        email: {
          key: emailKey,
          purpose: 'limit-request',
          subscriberId: subscriber.id,
          to: subscriber.email,
          ...limitRequestExpiredEmail({ ...data, expiryDays: input.expiryDays }),
        },
      });
      return emailKey;
    },
  };
}
