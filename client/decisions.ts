/**
 * Support's decisions sent as Temporal Updates (workflows/messages.ts): one round trip that ends
 * when the workflow has carried the decision out, or with the one-line reason it refused it (the
 * Update's validator runs the core's rules; the workflow checks the reviewer against support
 * staff). A refusal is an InputError: the CLI exits 2 with it.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
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
