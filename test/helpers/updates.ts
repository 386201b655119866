/** Decisions sent as Updates in tests: the one-line reason a refused one fails with. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

/** The reason an Update was refused (its ApplicationFailure's message); fails the test when it was not. */
export async function refusal(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause) return error.cause.message;
    throw error;
  }
  throw new Error('the update was accepted; expected a refusal');
}

/** How many Updates the history holds as accepted: one a validator refused is not among them. */
export const acceptedUpdates = (history: temporal.api.history.v1.IHistory): number => (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
