/** The text and HTML of the emails subscribers receive. Pure: data in, message out. */
import { formatCents, formatMicros } from './money';
import type { CloseFailure } from './month-close';
import { invoiceDocumentHtml, invoiceDocumentText, invoicePdfName, type InvoiceDocument } from './invoice-document';
import { overageCharge } from './rating';

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface InvoiceEmailData {
  /** The invoice document (billing/invoice-document.ts): the body shows it, the PDF attached renders it. */
  document: InvoiceDocument;
  subscriberName: string | null;
  subscriberId: string;
  overageMinutes: number;
  overageRateMicros: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function formatMinutes(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

export function invoiceEmail(d: InvoiceEmailData): EmailContent {
  const doc = d.document;
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const intro = `Your RedConnect invoice ${doc.number} for ${doc.period.label} is attached as a PDF (${invoicePdfName(doc)}). Please pay ${doc.total.amount} by ${doc.dueDate}.`;
  const overage =
    d.overageMinutes > 0
      ? `${d.overageMinutes} minutes past the allowance are charged at ${formatMicros(d.overageRateMicros)} ${doc.currency} a minute.`
      : 'You stayed within your allowance: no overage this month.';
  const text = [greeting, '', intro, overage, '', invoiceDocumentText(doc), '', 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(intro)}<br>${escapeHtml(overage)}</p>
${invoiceDocumentHtml(doc)}
<p>RedConnect Billing</p></body></html>`;
  // The subject as before invoices had numbers (mail filters and the tests read it); the number is in the body and the PDF's name.
  return { subject: `Your RedConnect invoice for ${doc.period.month}: ${doc.total.amount}`, text, html };
}

export interface UsageAlertData {
  subscriberId: string;
  subscriberName: string | null;
  period: string;
  thresholdPercent: number;
  usedSeconds: number;
  allowanceSeconds: number;
  overageRateMicros: number;
  currency: string;
  /** The month is over in the subscriber's zone, not yet invoiced (billing/alerts.ts, `alertMonth`). */
  monthEnded?: boolean;
}

export function usageAlertEmail(d: UsageAlertData): EmailContent {
  if (d.monthEnded) return endedMonthAlertEmail(d);
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const used = `You have used ${formatMinutes(d.usedSeconds)} of your ${formatMinutes(d.allowanceSeconds)} allowance for ${d.period} (${d.thresholdPercent} %).`;
  const consequence =
    d.thresholdPercent >= 100
      ? `Further minutes are charged at the standard overage rate of ${formatMicros(d.overageRateMicros)} ${d.currency} a minute until the next billing cycle begins.`
      : `Once you reach 100 %, further minutes are charged at the standard overage rate of ${formatMicros(d.overageRateMicros)} ${d.currency} a minute until the next billing cycle.`;
  const text = [greeting, '', used, consequence, '', 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(used)}</p><p>${escapeHtml(consequence)}</p><p>RedConnect Billing</p></body></html>`;
  const subject =
    d.thresholdPercent >= 100
      ? `You have used your full RedConnect allowance for ${d.period}`
      : `You have used ${d.thresholdPercent} % of your RedConnect allowance for ${d.period}`;
  return { subject, text, html };
}

/**
 * The alert for a month already over, in its grace window: nothing more can be used in it, so it
 * says what its invoice will carry from the calls received so far, not what further minutes cost.
 */
function endedMonthAlertEmail(d: UsageAlertData): EmailContent {
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const used = `Your billing month ${d.period} has ended. You used ${formatMinutes(d.usedSeconds)} of your ${formatMinutes(d.allowanceSeconds)} allowance (${d.thresholdPercent} %).`;
  const { minutes, cents } = overageCharge(d.usedSeconds, d.allowanceSeconds, d.overageRateMicros);
  const invoice =
    minutes > 0
      ? `Its invoice will carry ${minutes} minutes of overage at ${formatMicros(d.overageRateMicros)} ${d.currency} a minute: ${formatCents(cents)} ${d.currency}, from the calls received so far.`
      : 'Its invoice will carry no overage charge, from the calls received so far.';
  const text = [greeting, '', used, invoice, '', 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(used)}</p><p>${escapeHtml(invoice)}</p><p>RedConnect Billing</p></body></html>`;
  return { subject: `Your RedConnect usage for ${d.period}, which has ended: ${d.thresholdPercent} % of your allowance`, text, html };
}

export interface MinutePlanEmailData {
  subscriberId: string;
  subscriberName: string | null;
  effectivePeriod: string;
  plan: { minutes: number; feeCents: number };
  previousPlan: { minutes: number; feeCents: number } | null;
  streak: { periods: string[]; overageMinutes: number[] };
  averageOverageMinutes: number;
  currency: string;
}

export function minutePlanEmail(d: MinutePlanEmailData): EmailContent {
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const months = d.streak.periods.map((p, i) => `${p}: ${d.streak.overageMinutes[i]} min over`);
  const what = d.previousPlan
    ? `From ${d.effectivePeriod} your ${d.previousPlan.minutes}-minute plan becomes a ${d.plan.minutes}-minute plan for ${formatCents(d.plan.feeCents)} ${d.currency} a month (instead of ${formatCents(d.previousPlan.feeCents)}).`
    : `From ${d.effectivePeriod} a ${d.plan.minutes}-minute plan is added to your monthly charge for ${formatCents(d.plan.feeCents)} ${d.currency} a month.`;
  const why = `You went over your allowance ${d.streak.periods.length} months in a row, on average by ${d.averageOverageMinutes} minutes:`;
  const text = [
    greeting,
    '',
    what,
    '',
    why,
    ...months.map((m) => `  ${m}`),
    '',
    `The plan's minutes are added to your allowance, so those minutes are no longer charged at the overage rate.`,
    '',
    'RedConnect Billing',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(greeting)}</p><p>${escapeHtml(what)}</p>
<p>${escapeHtml(why)}</p><ul>${months.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<p>The plan's minutes are added to your allowance, so those minutes are no longer charged at the overage rate.</p><p>RedConnect Billing</p></body></html>`;
  return { subject: `A ${d.plan.minutes}-minute plan is added to your RedConnect account from ${d.effectivePeriod}`, text, html };
}

/** A month's invoices so far, of the subscribers billable for it, summed (db/month-close.ts reads them). */
export interface PeriodCloseTotals {
  invoices: number;
  emailed: number;
  calls: number;
  usedSeconds: number;
  overageMinutes: number;
  totalCents: number;
}

export interface CloseSummaryData extends PeriodCloseTotals {
  period: string;
  subscribers: number;
  currency: string;
  /** Invoices whose email the mail server refused for good. */
  mailFailed?: number;
  /** Subscribers whose close failed for good, and the first of them with the reason. */
  failed?: number;
  failures?: CloseFailure[];
}

export function closeSummaryEmail(d: CloseSummaryData): EmailContent {
  const failed = d.failed ?? 0;
  const lines = [
    `Subscribers: ${d.subscribers}`,
    `Invoices written: ${d.invoices}`,
    `Invoices mailed: ${d.emailed}`,
    `Invoice emails refused by the mail server: ${d.mailFailed ?? 0}`,
    `Subscribers whose close failed: ${failed}`,
    `Calls: ${d.calls}`,
    `Minutes: ${formatMinutes(d.usedSeconds)}`,
    `Overage: ${d.overageMinutes} min`,
    `Amount: ${formatCents(d.totalCents)} ${d.currency}`,
  ];
  const failures = (d.failures ?? []).map((f) => `${f.subscriberId}: ${f.reason}`);
  if (failed > failures.length) failures.push(`and ${failed - failures.length} more`);
  const failureText = failures.length ? ['', 'Closes that failed (no invoice written):', ...failures.map((f) => `  ${f}`)] : [];
  const failureHtml = failures.length ? `<p>Closes that failed (no invoice written):</p><ul>${failures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : '';
  return {
    subject: `Monthly close ${d.period}: ${d.invoices} invoices, ${formatCents(d.totalCents)} ${d.currency}${failed ? `, ${failed} failed` : ''}`,
    text: [`The close of ${d.period} is complete.`, '', ...lines, ...failureText].join('\n'),
    html: `<!doctype html><html><body style="font-family:sans-serif"><p>The close of <strong>${d.period}</strong> is complete.</p><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>${failureHtml}</body></html>`,
  };
}

export interface MinutePlanReductionEmailData {
  subscriberId: string;
  subscriberName: string | null;
  effectivePeriod: string;
  /** The plan from `effectivePeriod`, or null when the plan is removed. */
  plan: { minutes: number; feeCents: number } | null;
  previousPlan: { minutes: number; feeCents: number };
  streak: { periods: string[]; overageMinutesWithoutPlan: number[] };
  currency: string;
}

/** The plan removed or stepped down (DESIGN, "minute plan"): what changes, from when, and why. */
export function minutePlanReductionEmail(d: MinutePlanReductionEmailData): EmailContent {
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const previous = `${d.previousPlan.minutes}-minute plan`;
  const what = d.plan
    ? `From ${d.effectivePeriod} your ${previous} becomes a ${d.plan.minutes}-minute plan for ${formatCents(d.plan.feeCents)} ${d.currency} a month (instead of ${formatCents(d.previousPlan.feeCents)}).`
    : `From ${d.effectivePeriod} your ${previous} is removed: its ${formatCents(d.previousPlan.feeCents)} ${d.currency} a month is no longer charged.`;
  const why = d.plan
    ? `In the last ${d.streak.periods.length} months a ${d.plan.minutes}-minute plan would have covered all your usage:`
    : `In the last ${d.streak.periods.length} months your usage fit within your allowance without the plan:`;
  const months = d.streak.periods.map((p, i) => {
    const over = d.streak.overageMinutesWithoutPlan[i]!;
    return over > 0 ? `${p}: ${over} min past the allowance without a plan` : `${p}: within the allowance without a plan`;
  });
  const after = `Should you run over your allowance again ${d.streak.periods.length} months in a row, a plan is added again by the same rule.`;
  const text = [greeting, '', what, '', why, ...months.map((m) => `  ${m}`), '', after, '', 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(greeting)}</p><p>${escapeHtml(what)}</p>
<p>${escapeHtml(why)}</p><ul>${months.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<p>${escapeHtml(after)}</p><p>RedConnect Billing</p></body></html>`;
  const subject = d.plan
    ? `Your RedConnect minute plan becomes a ${d.plan.minutes}-minute plan from ${d.effectivePeriod}`
    : `Your ${previous} is removed from your RedConnect account from ${d.effectivePeriod}`;
  return { subject, text, html };
}
