/**
 * record-limit-request-<subscriber>-<n>: `billing limit request` as one durable operation (DESIGN,
 * "Processes"): the request is recorded once (keyed by this run; a second pending one is refused),
 * then its `limit-request-<id>` is started, which acknowledges it to the subscriber and support
 * and waits for the decision. A worker that dies between the two leaves the start to the next
 * one: no request is left without its workflow, and none needs undoing.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { LimitRequestRecord } from '../activities/limit-request-record';
import { db } from './activity-proxies';
import { limitRequestWorkflow, type LimitRequestInput } from './limit-request';
import { limitRequestWorkflowId, OPERATION_REFUSED } from './messages';

export interface RecordLimitRequestInput extends Omit<LimitRequestInput, 'requestId' | 'requestedMinutes'> {
  minutes: number;
  reason: string;
  /** Who made it, for the request's trail (`cli:<user>`). */
  actor: string;
}

export interface RecordedLimitRequest {
  request: LimitRequestRecord;
  /** `limit-request-<id>`, started. */
  workflowId: string;
}

export async function recordLimitRequestWorkflow(input: RecordLimitRequestInput): Promise<RecordedLimitRequest> {
  const { minutes, reason, actor, ...terms } = input;
  let request: LimitRequestRecord;
  try {
    request = await db(`Record ${input.subscriberId}'s request for ${minutes} minutes`).recordLimitRequest({ subscriberId: input.subscriberId, minutes, reason, actor });
  } catch (error) {
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === OPERATION_REFUSED) {
      throw ApplicationFailure.nonRetryable(error.cause.message, OPERATION_REFUSED);
    }
    throw error;
  }
  const workflowId = limitRequestWorkflowId(request.id);
  try {
    await startChild(limitRequestWorkflow, {
      workflowId,
      args: [{ ...terms, requestId: request.id, requestedMinutes: minutes }],
      // The request waits for support for days after this operation is done.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Limit request ${request.id}: ${input.subscriberId} asks for ${minutes} minutes a month`,
      staticDetails: `Reason: ${reason}\n\nDecide with the signal \`approve\` {"reviewer", "minutes"?, "until"?, "note"?} or \`reject\` {"reviewer", "reason"}.`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return { request, workflowId };
}
