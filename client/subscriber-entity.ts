/** Starting a subscriber's entity workflow, as `billing subscribers add` does (and the close benchmark). */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { subscriberWorkflowId } from '../workflows/messages';
import type { subscriberWorkflow } from '../workflows/subscriber';

/** Starts `subscriber-<id>` at the month of its service start; an entity already running is kept. */
export async function startSubscriberEntity(client: Client, taskQueue: string, subscriber: { id: string; serviceStart: string }): Promise<void> {
  await client.workflow.start<typeof subscriberWorkflow>('subscriberWorkflow', {
    workflowId: subscriberWorkflowId(subscriber.id),
    taskQueue,
    args: [{ subscriberId: subscriber.id, period: subscriber.serviceStart.slice(0, 7) }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `Billing cycle of subscriber ${subscriber.id}`,
  });
}
