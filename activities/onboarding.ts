/**
 * The I/O of `onboard-subscriber-<id>` (workflows/onboard-subscriber.ts): the subscriber's record,
 * written once per workflow run, then the follow-ups that are idempotent by themselves.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { cycleSummary } from '../billing/cycle-details';
import { writeOnce } from '../db/operations';
import { DuplicateError, insertSubscriberIn, type NewSubscriber } from '../db/subscribers';
import { OPERATION_REFUSED, subscriberWorkflowId, usageAlertsWorkflowId } from '../workflows/messages';
import { queueNoticesForNewSubscriber } from './policy-change';
export type { NewSubscriber };
import { rematchUnmatched } from '../db/rematch';
import { queueUsageAlerts } from '../db/usage-alerts';

/** The workflow run doing an operation: its first write is keyed by it. */
export function operationKey(): string {
  const { workflowId, runId } = Context.current().info.workflowExecution ?? {};
  if (!workflowId || !runId) throw ApplicationFailure.nonRetryable("an operation's first write runs in a workflow", 'NotInWorkflow');
  return `${workflowId}/${runId}`;
}

export function createOnboardingActivities(pool: Pool, temporal: Client, taskQueue: string) {
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

    /**
     * Starts the subscriber's `subscriber-<id>` at the month of their service start; one already
     * running (the month close may have started it) is kept. Started from here, like the close's
     * fan-out, rather than as a child: the entity outlives the operation by years.
     */
    async startSubscriberCycle(input: { subscriberId: string; period: string }): Promise<string> {
      const workflowId = subscriberWorkflowId(input.subscriberId);
      await temporal.workflow.start('subscriberWorkflow', {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: cycleSummary(input.subscriberId),
      });
      return workflowId;
    },

    /** Hands the usage alerts onboarding made due to `usage-alerts-subscriber-added-<id>`, once. */
    async startUsageAlertDelivery(input: { subscriberId: string; keys: string[] }): Promise<string> {
      const workflowId = usageAlertsWorkflowId(`subscriber-added-${input.subscriberId}`);
      await temporal.workflow.start('deliverEmailsWorkflow', {
        workflowId,
        taskQueue,
        args: [{ keys: input.keys }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Usage alerts: ${input.keys.length} emails`,
      });
      return workflowId;
    },

    /** Queues the notice of a policy revision in flight for a subscriber who just joined, once; returns the versions. */
    async queuePolicyNoticesForNewSubscriber(input: { subscriberId: string }): Promise<number[]> {
      return queueNoticesForNewSubscriber(pool, input.subscriberId);
    },
  };
}
