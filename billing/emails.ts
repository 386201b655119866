/** The text and HTML of the emails subscribers receive. Pure: data in, message out. */
import { formatCents, formatMicros } from './money';
import type { InvoiceLine } from './rating';

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface InvoiceEmailData {
  invoiceId: string;
  subscriberName: string | null;
  subscriberId: string;
  period: string;
  currency: string;
  usedSeconds: number;
  allowanceSeconds: number;
  overageMinutes: number;
  overageRateMicros: number;
  lines: InvoiceLine[];
  totalCents: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function formatMinutes(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

export function invoiceEmail(d: InvoiceEmailData): EmailContent {
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const usage = `You used ${formatMinutes(d.usedSeconds)} of your ${formatMinutes(d.allowanceSeconds)} allowance in ${d.period}.`;
  const overage = d.overageMinutes > 0
    ? `${d.overageMinutes} minutes past the allowance are charged at ${formatMicros(d.overageRateMicros)} ${d.currency} a minute.`
    : 'You stayed within your allowance: no overage this month.';
  const textLines = d.lines.map((l) => `  ${l.description.padEnd(48)} ${formatCents(l.amountCents).padStart(10)} ${d.currency}`);
  const text = [
    greeting, '', `Your RedConnect invoice ${d.invoiceId} for ${d.period}.`, '', usage, overage, '',
    ...textLines,
    `  ${'Total'.padEnd(48)} ${formatCents(d.totalCents).padStart(10)} ${d.currency}`,
    '', 'RedConnect Billing',
  ].join('\n');
  const rows = d.lines
    .map((l) => `<tr><td>${escapeHtml(l.description)}</td><td style="text-align:right">${formatCents(l.amountCents)} ${d.currency}</td></tr>`)
    .join('');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<p>${escapeHtml(greeting)}</p>
<p>Your RedConnect invoice <strong>${escapeHtml(d.invoiceId)}</strong> for ${d.period}.</p>
<p>${escapeHtml(usage)}<br>${escapeHtml(overage)}</p>
<table cellpadding="4" style="border-collapse:collapse">${rows}
<tr><th style="text-align:left">Total</th><th style="text-align:right">${formatCents(d.totalCents)} ${d.currency}</th></tr></table>
<p>RedConnect Billing</p></body></html>`;
  return { subject: `Your RedConnect invoice for ${d.period}: ${formatCents(d.totalCents)} ${d.currency}`, text, html };
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
}

export function usageAlertEmail(d: UsageAlertData): EmailContent {
  const greeting = `Hello ${d.subscriberName ?? d.subscriberId},`;
  const used = `You have used ${formatMinutes(d.usedSeconds)} of your ${formatMinutes(d.allowanceSeconds)} allowance for ${d.period} (${d.thresholdPercent} %).`;
  const consequence = d.thresholdPercent >= 100
    ? `Further minutes are charged at the standard overage rate of ${formatMicros(d.overageRateMicros)} ${d.currency} a minute until the next billing cycle begins.`
    : `Once you reach 100 %, further minutes are charged at the standard overage rate of ${formatMicros(d.overageRateMicros)} ${d.currency} a minute until the next billing cycle.`;
  const text = [greeting, '', used, consequence, '', 'RedConnect Billing'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(used)}</p><p>${escapeHtml(consequence)}</p><p>RedConnect Billing</p></body></html>`;
  const subject = d.thresholdPercent >= 100
    ? `You have used your full RedConnect allowance for ${d.period}`
    : `You have used ${d.thresholdPercent} % of your RedConnect allowance for ${d.period}`;
  return { subject, text, html };
}
