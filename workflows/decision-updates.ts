/**
 * Support's decisions sent as Updates (workflows/messages.ts): the workflow puts them in the same
 * queue as the signals, so one order decides which is first, and answers the waiting Update with
 * the main loop's verdict.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { DECISION_REFUSED } from './messages';

/** Fails the Update (or its validator) with the one-line reason; the workflow goes on. */
export function refuse(problem: string): never {
  throw ApplicationFailure.create({ type: DECISION_REFUSED, message: problem, nonRetryable: true });
}

/** The Updates waiting for the main loop's verdict on their queued decision. */
export class DecisionReplies<Decision> {
  private readonly waiting = new Map<object, (verdict: { decision: Decision } | { problem: string }) => void>();

  /** Waits for the verdict on `item` (the queue entry): the decision taken, or a refusal with the reason. */
  async verdict(item: object): Promise<Decision> {
    const verdict = await new Promise<{ decision: Decision } | { problem: string }>((resolve) => this.waiting.set(item, resolve));
    if ('problem' in verdict) return refuse(verdict.problem);
    return verdict.decision;
  }

  /** The main loop's verdict on a queue entry; nothing happens for one that came by signal. */
  answer(item: object, verdict: { decision: Decision } | { problem: string }): void {
    const reply = this.waiting.get(item);
    this.waiting.delete(item);
    reply?.(verdict);
  }

  /** Updates still waiting: a run must not continue as new under them. */
  get pending(): number {
    return this.waiting.size;
  }
}
