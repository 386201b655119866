/** The first write of `record-limit-request-<subscriber>-<n>` (workflows/record-limit-request.ts). */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { asPendingRequestError, insertLimitRequest, PendingRequestError, type LimitRequestRecord, type NewLimitRequest } from '../db/limit-requests';
import { writeOnce } from '../db/operations';
import { getSubscriber } from '../db/subscribers';
import type { LimitRequestInput } from '../workflows/limit-request';
import { limitRequestWorkflowId, OPERATION_REFUSED } from '../workflows/messages';
import { operationKey } from './onboarding';

export type { LimitRequestRecord, NewLimitRequest };

export function createLimitRequestRecordActivities(pool: Pool, temporal: Client, taskQueue: string) {
  return {
    /**
     * Records the request and its first step, once per workflow run; refused for good when the
     * subscriber does not exist or already has a pending request (DESIGN, "limit increase").
     */
    async recordLimitRequest(request: NewLimitRequest): Promise<LimitRequestRecord> {
      try {
        const { result } = await writeOnce(pool, operationKey(), async (client) => {
          if (!(await getSubscriber(client, request.subscriberId)))
            throw ApplicationFailure.nonRetryable(`subscriber "${request.subscriberId}" does not exist; see \`billing subscribers list\``, OPERATION_REFUSED);
          return insertLimitRequest(client, request);
        });
        return result;
      } catch (error) {
        const pending = await asPendingRequestError(pool, request.subscriberId, error);
        if (pending instanceof PendingRequestError) throw ApplicationFailure.nonRetryable(pending.message, OPERATION_REFUSED);
        throw pending;
      }
    },

    /**
     * Starts the request's `limit-request-<id>`, which acknowledges it and waits for support; one
     * already running (a retry) is kept. Started from here rather than as a child: it outlives the
     * operation by days or months.
     */
    async startLimitRequestProcess(input: LimitRequestInput & { reason: string }): Promise<string> {
      const { reason, ...args } = input;
      const workflowId = limitRequestWorkflowId(input.requestId);
      await temporal.workflow.start('limitRequestWorkflow', {
        workflowId,
        taskQueue,
        args: [args],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Limit request ${input.requestId}: ${input.subscriberId} asks for ${input.requestedMinutes} minutes a month`,
        staticDetails: `Reason: ${reason}\n\nDecide with the signal \`approve\` {"reviewer", "minutes"?, "until"?, "note"?} or \`reject\` {"reviewer", "reason"}.`,
      });
      return workflowId;
    },
  };
}
