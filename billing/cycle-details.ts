/**
 * What a subscriber's cycle shows in the Temporal UI (README, "Finding runs in the Temporal UI"):
 * the summary every run of `subscriber-<id>` carries, and the current details of its state. Text
 * only; the workflow decides when each is shown.
 */
import { formatCents } from './money';

/**
 * The summary of every run of a subscriber's cycle: the static summary of the run a client starts,
 * and the memo `summary` each run carries on (a continued run has no static summary of its own).
 */
export const cycleSummary = (subscriberId: string): string => `Billing cycle of subscriber ${subscriberId}`;

/** 1305, "USD" → "13.05 USD": an amount as people read it, never without its currency. */
export const formatAmount = (cents: number, currency: string): string => `${formatCents(cents)} ${currency}`;

/** An invoice as the details name it. `currency` is absent from runs continued before it was carried. */
export interface InvoiceFigures {
  invoiceId: string;
  totalCents: number;
  overageMinutes: number;
  currency?: string;
}

const amountOf = (invoice: InvoiceFigures): string => (invoice.currency ? formatAmount(invoice.totalCents, invoice.currency) : formatCents(invoice.totalCents));

/** The current details: the summary, then where the run stands (markdown, as the UI renders it). */
export function cycleDetails(subscriberId: string, period: string, state: string, text: string): string {
  return `${cycleSummary(subscriberId)}\n\n**${subscriberId}**, ${period}: ${state}. ${text}`;
}

/** A new run's details: the invoice of the month before, or none. */
export function lastInvoiceText(last: InvoiceFigures | null | undefined): string {
  return last ? `Last invoice ${last.invoiceId}: ${amountOf(last)}, overage ${last.overageMinutes} min.` : 'No invoice yet.';
}

/** The invoiced month's details: its invoice, the policy it was rated under and the plan it carried. */
export function invoicedText(invoice: InvoiceFigures & { policyVersion: number; planMinutes: number | null }): string {
  const plan = invoice.planMinutes === null ? '' : `, ${invoice.planMinutes}-minute plan`;
  return `Invoice ${invoice.invoiceId}: ${amountOf(invoice)}, ${invoice.overageMinutes} min overage (policy v${invoice.policyVersion}${plan}).`;
}

/** A minute plan the close changed from the next month (`minutes` null: removed), appended to the invoiced details. */
export function planChangeText(minutes: number | null, fromPeriod: string): string {
  return minutes === null ? `Minute plan removed from ${fromPeriod}.` : `From ${fromPeriod}: the ${minutes}-minute plan.`;
}

/** The details of a subscription a termination ended, with its final invoice if there was one. */
export function terminatedText(caseId: string | undefined, period: string, final: InvoiceFigures | null, adjustmentMonths: number): string {
  const invoice = final ? `final invoice ${final.invoiceId} for ${period}, ${amountOf(final)}` : `no invoice for ${period}`;
  return `Subscription terminated (abuse case ${caseId}): ${invoice}. Late calls are billed on final adjustment invoices for ${adjustmentMonths} months.`;
}
