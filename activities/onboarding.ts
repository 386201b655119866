/**
 * The I/O of `onboard-subscriber-<id>` (workflows/onboard-subscriber.ts): the subscriber's record,
 * written once per workflow run, then the follow-ups that are idempotent by themselves.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { writeOnce } from '../db/operations';
import { DuplicateError, insertSubscriberIn, type NewSubscriber } from '../db/subscribers';
import { OPERATION_REFUSED } from '../workflows/messages';
import { queueNoticesForNewSubscriber } from './policy-change';
export type { NewSubscriber };
import { rematchUnmatched } from './rematch';
import { queueUsageAlerts } from './usage-alerts';

/** The workflow run doing an operation: its first write is keyed by it. */
export function operationKey(): string {
  const { workflowId, runId } = Context.current().info.workflowExecution ?? {};
  if (!workflowId || !runId) throw ApplicationFailure.nonRetryable('an operation\'s first write runs in a workflow', 'NotInWorkflow');
  return `${workflowId}/${runId}`;
}

export function createOnboardingActivities(pool: Pool) {
  return {
    /** Inserts the subscriber and their numbers, once; a subscriber, number or account code already taken is refused for good. */
    async registerSubscriber(subscriber: NewSubscriber): Promise<void> {
      try {
        await writeOnce(pool, operationKey(), (client) => insertSubscriberIn(client, subscriber));
      } catch (error) {
        if (error instanceof DuplicateError) throw ApplicationFailure.nonRetryable(error.message, OPERATION_REFUSED);
        throw error;
      }
    },

    /**
     * Attributes the records that matched nobody and now match someone (DESIGN, "Who"), and
     * queues the usage alerts that made due: those of the periods it touched and every period of
     * the new subscriber's (a retry after a crash half way has already claimed some records).
     */
    async attributeUnmatchedCalls(input: { subscriberId: string }): Promise<{ attributed: number; alertKeys: string[] }> {
      const rematch = await rematchUnmatched(pool);
      const { rows } = await pool.query('SELECT DISTINCT period FROM calls WHERE subscriber_id = $1', [input.subscriberId]);
      const touched = [...rematch.touched, ...rows.map((r) => ({ subscriberId: input.subscriberId, period: r.period as string }))];
      return { attributed: rematch.attributed, alertKeys: await queueUsageAlerts(pool, touched) };
    },

    /** Queues the notice of a policy revision in flight for a subscriber who just joined, once; returns the versions. */
    async queuePolicyNoticesForNewSubscriber(input: { subscriberId: string }): Promise<number[]> {
      return queueNoticesForNewSubscriber(pool, input.subscriberId);
    },
  };
}
