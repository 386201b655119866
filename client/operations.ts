/**
 * Multi-step operations (onboarding, a limit request) run as workflows (DESIGN, "Processes"):
 * the CLI starts one and waits for its result. A refusal by its first activity (OPERATION_REFUSED,
 * nothing written) is an InputError: the CLI exits 2 with its one-line reason.
 */
import { WorkflowFailedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, type Workflow } from '@temporalio/common';
import { OPERATION_REFUSED } from '../workflows/messages';
import { InputError } from './context';

/** How long the CLI waits for an operation before saying where it stands. */
export const OPERATION_TIMEOUT_MS = 60_000;

export async function runOperation<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
  timeoutMs = OPERATION_TIMEOUT_MS,
): Promise<Awaited<ReturnType<W>>> {
  let handle;
  try {
    handle = await client.workflow.start<W>(workflowType, options);
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      throw new InputError(`${options.workflowId} is already running: the same operation is under way; see it with \`temporal workflow describe -w ${options.workflowId}\``);
    throw error;
  }
  const deadline = Date.now() + timeoutMs;
  try {
    return (await client.withDeadline(deadline, () => handle.result())) as Awaited<ReturnType<W>>;
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) throw new InputError(refusal);
    if (Date.now() >= deadline) {
      throw new Error(`started ${options.workflowId}, but it did not finish within ${timeoutMs / 1000} s; is a billing worker running? It completes when a worker takes it`);
    }
    throw error;
  }
}

/** The one-line reason of a refused operation, found down the failure's causes. */
function refusalOf(error: unknown): string | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  for (let cause: unknown = error.cause; cause instanceof Error; cause = (cause as Error & { cause?: unknown }).cause) {
    if (cause instanceof ApplicationFailure && cause.type === OPERATION_REFUSED) return cause.message.replace(/\s+/g, ' ').trim();
  }
  return undefined;
}
