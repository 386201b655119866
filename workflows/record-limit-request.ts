/**
 * record-limit-request-<subscriber>-<n>: `billing limit request` as one durable operation (DESIGN,
 * "Processes"): the request is recorded once (keyed by this run; a second pending one is refused),
 * then its `limit-request-<id>` is started (by an activity, kept if already running), which acknowledges it to the subscriber and support
 * and waits for the decision. A worker that dies between the two leaves the start to the next
 * one: no request is left without its workflow, and none needs undoing.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { LimitRequestRecord } from '../activities/limit-request-record';
import { db } from './activity-proxies';
import type { LimitRequestInput } from './limit-request';
import { OPERATION_REFUSED } from './messages';

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
  const workflowId = await db(`Start limit-request-${request.id}`).startLimitRequestProcess({ ...terms, requestId: request.id, requestedMinutes: minutes, reason });
  return { request, workflowId };
}
