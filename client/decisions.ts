/**
 * Support's decisions sent as Temporal Updates (workflows/messages.ts): one round trip that ends
 * when the workflow has carried the decision out, or with the one-line reason it refused it (the
 * Update's validator runs the core's rules; the workflow checks the reviewer against support
 * staff). A refusal is an InputError: the CLI exits 2 with it.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import type { Pool } from 'pg';
import { checkAbuseDecision, dayOf } from '../billing/abuse';
import { reviewerProblem } from '../billing/reviewers';
import { getAbuseCase } from '../db/abuse';
import { getLimitRequest } from '../db/limit-requests';
import { getStaffMember } from '../db/staff';
import {
  abuseCaseWorkflowId,
  approveUpdate,
  decideUpdate,
  limitRequestWorkflowId,
  rejectUpdate,
  type AbuseCaseStatus,
  type AbuseDecisionPayload,
  type ApproveDecision,
  type LimitRequestStatus,
  type RejectDecision,
} from '../workflows/messages';
import { InputError } from './context';

/** How long a decision may take to be carried out (recorded, the subscriber mailed). */
export const DECISION_TIMEOUT_MS = 60_000;

export async function decideByUpdate<Ret, Payload>(
  client: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, [Payload]>,
  payload: Payload,
  timeoutMs = DECISION_TIMEOUT_MS,
): Promise<Ret> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () => handle.executeUpdate(update, { args: [payload] }));
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new InputError(oneLine(error.cause?.message ?? error.message));
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new Error(
        `${update.name} sent to ${workflowId}, but not answered within ${timeoutMs / 1000} s; is a billing worker running? It is carried out if a worker takes it later`,
      );
    }
    if (error instanceof WorkflowNotFoundError) throw new InputError(`${workflowId} is not running (${oneLine(error.message)}): it takes no more decisions`);
    throw error;
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** A limit request's decision as a person makes it: the reviewer and what they chose (workflows/messages.ts payloads). */
export type LimitRequestDecision = { kind: 'approve'; payload: ApproveDecision } | { kind: 'reject'; payload: RejectDecision };

/**
 * Decides a pending limit request, from the CLI (`billing limit approve|reject`) or the console:
 * the request must be pending and the reviewer may decide (billing/reviewers.ts), looked up first
 * so that a typo is refused without entering the request's trail; then the Update, whose validator
 * applies the core's rules. Every refusal is an InputError with the reason; nothing changes then.
 */
export async function decideLimitRequest(pool: Pool, client: Client, requestId: string, decision: LimitRequestDecision): Promise<LimitRequestStatus> {
  const request = await getLimitRequest(pool, requestId);
  if (!request) throw new InputError(`limit request "${requestId}" does not exist; see \`billing limit list\``);
  if (request.status !== 'pending') {
    throw new InputError(
      `limit request ${requestId} is already ${request.status}${request.reviewer ? ` by ${request.reviewer}` : ''}${request.decidedAt ? ` at ${request.decidedAt}` : ''}: the first decision stands`,
    );
  }
  await checkReviewer(pool, decision.payload.reviewer);
  const workflowId = limitRequestWorkflowId(requestId);
  return decision.kind === 'approve' ? decideByUpdate(client, workflowId, approveUpdate, decision.payload) : decideByUpdate(client, workflowId, rejectUpdate, decision.payload);
}

/**
 * Decides an abuse case, from the CLI (`billing abuse decide`) or the console: a closed case (its
 * workflow has ended) is refused from its record by the core's rule, the reviewer is looked up
 * first, then the Update, whose validator applies the core's rules by the case's state and clock.
 */
export async function decideAbuseCase(pool: Pool, client: Client, caseId: string, payload: AbuseDecisionPayload): Promise<AbuseCaseStatus> {
  const record = await getAbuseCase(pool, caseId);
  if (!record) throw new InputError(`abuse case "${caseId}" does not exist; see \`billing abuse list\``);
  if (record.state !== 'open' && record.state !== 'suspended') {
    const closed = checkAbuseDecision(payload, { state: record.state, today: dayOf(Date.now(), 'UTC') });
    if ('problem' in closed) throw new InputError(closed.problem);
  }
  await checkReviewer(pool, payload.reviewer);
  return decideByUpdate(client, abuseCaseWorkflowId(caseId), decideUpdate, payload);
}

async function checkReviewer(pool: Pool, reviewerId: unknown): Promise<void> {
  const id = String(reviewerId);
  const problem = reviewerProblem(id, await getStaffMember(pool, id));
  if (problem) throw new InputError(problem);
}
