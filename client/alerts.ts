/** Hands queued usage-alert emails to a Temporal workflow for durable delivery. */
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { deliverEmailsWorkflow } from '../workflows/email-delivery';
import { usageAlertsWorkflowId } from '../workflows/messages';
import type { CommandContext } from './context';
import { plural } from './output';

export async function sendUsageAlerts(ctx: CommandContext, keys: string[], origin: string): Promise<string> {
  if (keys.length === 0) return 'no usage alerts due';
  try {
    const client = await ctx.temporal();
    const workflowId = usageAlertsWorkflowId(origin);
    await client.workflow.start<typeof deliverEmailsWorkflow>('deliverEmailsWorkflow', {
      workflowId,
      taskQueue: ctx.config.taskQueue,
      args: [{ keys }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `Usage alerts: ${plural(keys.length, 'email')}`,
    });
    return `${plural(keys.length, 'usage alert email')} handed to ${workflowId}`;
  } catch (error) {
    return `${plural(keys.length, 'usage alert email')} queued but not handed over (${(error as Error).message}); the next import or \`billing usage rematch\` retries`;
  }
}
