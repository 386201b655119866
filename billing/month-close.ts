/**
 * When a month's close is complete (issue 12, items 3, 4 and 16): every subscriber billable for
 * the month has an invoice or a recorded failure, and every one of those invoices' emails is
 * either sent or refused for good by the mail server. Both counts are of the same population.
 */

/**
 * A subscriber whose close of the month failed for good, with the reason (and the month it
 * failed at when earlier: a cycle closes its months in order).
 */
export interface CloseFailure {
  subscriberId: string;
  reason: string;
}

export interface CloseProgressCounts {
  /** Billable subscribers with neither an invoice nor a failure yet. */
  open: number;
  /** Their invoices whose email is neither sent nor failed yet. */
  mailPending: number;
}

export function closeComplete(counts: CloseProgressCounts): boolean {
  return counts.open <= 0 && counts.mailPending <= 0;
}
