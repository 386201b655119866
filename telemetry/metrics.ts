/**
 * The billing metrics (prom-client), counted where the work happens: invoices written, amounts
 * invoiced, overage minutes and emails in the activities, the close's progress where the close
 * reads it. One registry per process, served by the worker's metrics endpoint
 * (workers/telemetry.ts) together with the SDK's own metrics and the gauges read from PostgreSQL
 * at scrape time. Counting is a few additions in memory: with no endpoint configured nobody reads them.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const billingRegistry = new Registry();

let processMetrics = false;
/** Node's own (memory, CPU, event loop delay), once the endpoint serves them. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: billingRegistry });
}

const invoicesWritten = new Counter({
  name: 'billing_invoices_written_total',
  help: 'Invoices written by this worker (a retry or a rerun that finds the invoice written adds nothing)',
  labelNames: ['currency'] as const,
  registers: [billingRegistry],
});

const invoicedCents = new Counter({
  name: 'billing_invoiced_cents_total',
  help: 'Amount of the invoices written by this worker, in cents of their currency',
  labelNames: ['currency'] as const,
  registers: [billingRegistry],
});

const overageMinutes = new Counter({
  name: 'billing_overage_minutes_total',
  help: 'Overage minutes charged on the invoices written by this worker',
  registers: [billingRegistry],
});

const emailsSent = new Counter({
  name: 'billing_emails_sent_total',
  help: 'Emails the mail server accepted, by kind (the outbox purpose: invoice, usage-alert, policy-notice, ...)',
  labelNames: ['kind'] as const,
  registers: [billingRegistry],
});

const emailsFailed = new Counter({
  name: 'billing_emails_failed_total',
  help: 'Emails the mail server refused for good (5xx to the recipient or the message), by kind: not retried, billing operations alerted',
  labelNames: ['kind'] as const,
  registers: [billingRegistry],
});

const emailErrors = new Counter({
  name: 'billing_email_attempt_errors_total',
  help: 'Attempts to send an email that failed for a reason that may pass (4xx, connection refused or lost): retried',
  labelNames: ['kind'] as const,
  registers: [billingRegistry],
});

const closeProgress = new Gauge({
  name: 'billing_close_progress',
  help: "A month's close as this worker last read it: billable subscribers, invoices written, mailed, refused by the mail server, still to be mailed, subscribers whose close failed, subscribers still open",
  labelNames: ['period', 'state'] as const,
  registers: [billingRegistry],
});

/** An invoice this worker wrote (not one it found written). */
export function countInvoiceWritten(invoice: { currency: string; totalCents: number | bigint; overageMinutes: number }): void {
  invoicesWritten.inc({ currency: invoice.currency });
  invoicedCents.inc({ currency: invoice.currency }, Number(invoice.totalCents));
  overageMinutes.inc(invoice.overageMinutes);
}

/** What one attempt at an outbox email came to: accepted, refused for good, or failed for now. */
export function countEmailAttempt(kind: string, outcome: 'sent' | 'failed' | 'error'): void {
  const counter = outcome === 'sent' ? emailsSent : outcome === 'failed' ? emailsFailed : emailErrors;
  counter.inc({ kind });
}

export interface CloseProgressNumbers {
  subscribers: number;
  invoices: number;
  emailed: number;
  mailFailed: number;
  mailPending: number;
  failed: number;
  open: number;
}

/** The close of `period` as last read (db/month-close.ts closeProgressSnapshot). */
export function recordCloseProgress(period: string, p: CloseProgressNumbers): void {
  const states: [string, number][] = [
    ['subscribers', p.subscribers],
    ['invoices', p.invoices],
    ['emailed', p.emailed],
    ['mail_failed', p.mailFailed],
    ['mail_pending', p.mailPending],
    ['failed', p.failed],
    ['open', p.open],
  ];
  for (const [state, value] of states) closeProgress.set({ period, state }, value);
}
