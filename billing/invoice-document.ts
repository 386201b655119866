/**
 * The invoice document (issue 16): everything an invoice shows, built once from the invoice, the
 * seller (configuration) and the buyer (the subscriber), with every amount already formatted. The
 * email's HTML and text (here) and the PDF (documents/invoice-pdf.ts) are drawn from this one
 * model, so they cannot disagree. Pure: data in, document out.
 */
import { formatCents, formatMicros } from './money';
import type { InvoiceLine, InvoiceLineKind } from './rating';

/** Who issues the invoices (BILLING_SELLER_* in config/index.ts). */
export interface Seller {
  name: string;
  /** The postal address, one line each. */
  address: string[];
  taxId: string;
  email: string;
}

/** The legal number of the n-th invoice issued in a year: RC-2026-000123. */
export function invoiceNumber(year: number, n: number): string {
  if (!Number.isSafeInteger(year) || year < 2000 || year > 9999) throw new RangeError(`invoice year must be 2000 to 9999, got ${year}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`invoice sequence number must be a whole number ≥ 1, got ${n}`);
  return `RC-${year}-${String(n).padStart(6, '0')}`;
}

/** What the document is built from: the invoice as stored (db/invoices.ts), its seller and buyer. */
export interface InvoiceDocumentInput {
  invoice: {
    id: string;
    number: string;
    /** YYYY-MM-DD. */
    issueDate: string;
    dueDate: string;
    period: string;
    currency: string;
    usedSeconds: number;
    allowanceSeconds: number;
    overageMinutes: number;
    totalCents: number;
    lines: InvoiceLine[];
    /** The late-call adjustments of earlier months, in the order of their lines (by period). */
    adjustments: { period: string; overageMinutes: number; amountCents: number }[];
  };
  seller: Seller;
  buyer: { id: string; name: string | null; email: string };
}

export interface InvoiceDocumentLine {
  kind: InvoiceLineKind;
  description: string;
  /** The month an adjustment corrects (YYYY-MM), for adjustment lines. */
  corrects: string | null;
  quantity: string;
  unitPrice: string;
  amount: string;
  amountCents: number;
}

export interface InvoiceDocument {
  number: string;
  invoiceId: string;
  issueDate: string;
  dueDate: string;
  period: { month: string; label: string; from: string; to: string };
  seller: Seller;
  buyer: { name: string; reference: string; email: string };
  currency: string;
  /** One sentence on the month's usage against the allowance. */
  usage: string;
  lines: InvoiceDocumentLine[];
  total: { amount: string; cents: number };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026-08" → "August 2026". */
export function monthLabel(period: string): string {
  const [year, month] = period.split('-').map(Number);
  return `${MONTHS[month! - 1]} ${year}`;
}

function lastDayOf(period: string): string {
  const [year, month] = period.split('-').map(Number);
  const days = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return `${period}-${String(days).padStart(2, '0')}`;
}

const UNITS: Record<InvoiceLineKind, string> = { 'monthly-fee': 'month', 'minute-plan': 'month', overage: 'min', adjustment: 'min' };

function minutesText(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

export function buildInvoiceDocument(input: InvoiceDocumentInput): InvoiceDocument {
  const { invoice, seller, buyer } = input;
  const adjustmentLines = invoice.lines.filter((l) => l.kind === 'adjustment').length;
  if (adjustmentLines !== invoice.adjustments.length) {
    throw new Error(
      `invoice ${invoice.id} has ${adjustmentLines} adjustment line(s) but ${invoice.adjustments.length} adjustment record(s); its lines cannot be matched to the months they correct`,
    );
  }
  const corrected = [...invoice.adjustments].sort((a, b) => a.period.localeCompare(b.period)).map((a) => a.period);
  let nextAdjustment = 0;
  const lines = invoice.lines.map((line): InvoiceDocumentLine => ({
    kind: line.kind,
    description: line.description,
    corrects: line.kind === 'adjustment' ? corrected[nextAdjustment++]! : null,
    quantity: `${line.quantity} ${UNITS[line.kind]}`,
    unitPrice: `${formatMicros(line.unitPriceMicros)} ${invoice.currency}`,
    amount: `${formatCents(line.amountCents)} ${invoice.currency}`,
    amountCents: line.amountCents,
  }));
  const sum = lines.reduce((total, line) => total + line.amountCents, 0);
  if (sum !== invoice.totalCents)
    throw new Error(`invoice ${invoice.id}: its lines add up to ${formatCents(sum)} but its total is ${formatCents(invoice.totalCents)} ${invoice.currency}`);
  const over = invoice.overageMinutes > 0 ? `, ${invoice.overageMinutes} min past it` : ', within it';
  return {
    number: invoice.number,
    invoiceId: invoice.id,
    issueDate: invoice.issueDate,
    dueDate: invoice.dueDate,
    period: { month: invoice.period, label: monthLabel(invoice.period), from: `${invoice.period}-01`, to: lastDayOf(invoice.period) },
    seller,
    buyer: { name: buyer.name ?? buyer.id, reference: buyer.id, email: buyer.email },
    currency: invoice.currency,
    usage: `Used ${minutesText(invoice.usedSeconds)} of a ${minutesText(invoice.allowanceSeconds)} allowance${over}.`,
    lines,
    total: { amount: `${formatCents(invoice.totalCents)} ${invoice.currency}`, cents: invoice.totalCents },
  };
}

/** The file name of the document's PDF. */
export const invoicePdfName = (doc: Pick<InvoiceDocument, 'number'>): string => `${doc.number}.pdf`;

/** The document as plain text (the email's text part): the same blocks as the PDF. */
export function invoiceDocumentText(doc: InvoiceDocument): string {
  const lines = doc.lines.flatMap((l) => [
    `  ${l.description.padEnd(46)} ${l.quantity.padStart(10)} × ${l.unitPrice.padStart(14)} ${l.amount.padStart(14)}`,
    ...(l.corrects ? [`    corrects ${monthLabel(l.corrects)} (${l.corrects})`] : []),
  ]);
  return [
    `Invoice ${doc.number}`,
    `Issue date: ${doc.issueDate}`,
    `Due date:   ${doc.dueDate}`,
    `Period:     ${doc.period.label} (${doc.period.from} to ${doc.period.to})`,
    '',
    'From:',
    `  ${doc.seller.name}`,
    ...doc.seller.address.map((a) => `  ${a}`),
    `  Tax ID: ${doc.seller.taxId}`,
    `  ${doc.seller.email}`,
    '',
    'To:',
    `  ${doc.buyer.name}`,
    `  Subscriber: ${doc.buyer.reference}`,
    `  ${doc.buyer.email}`,
    '',
    doc.usage,
    '',
    ...lines,
    `  ${'Total'.padEnd(88)} ${doc.total.amount.padStart(14)}`,
  ].join('\n');
}

/** The document as an HTML fragment (the email's body), the same blocks as the PDF. */
export function invoiceDocumentHtml(doc: InvoiceDocument): string {
  const e = escapeHtml;
  const cell = 'padding:4px 8px;border-bottom:1px solid #ddd';
  const right = `${cell};text-align:right;white-space:nowrap`;
  const rows = doc.lines
    .map(
      (l) =>
        `<tr><td style="${cell}">${e(l.description)}${l.corrects ? `<br><small>corrects ${e(monthLabel(l.corrects))} (${e(l.corrects)})</small>` : ''}</td>` +
        `<td style="${right}">${e(l.quantity)}</td><td style="${right}">${e(l.unitPrice)}</td><td style="${right}">${e(l.amount)}</td></tr>`,
    )
    .join('\n');
  return `<table cellpadding="0" cellspacing="0" style="width:100%;max-width:720px"><tr>
<td style="vertical-align:top"><h2 style="margin:0">Invoice ${e(doc.number)}</h2>
<p style="margin:4px 0">Issue date: ${e(doc.issueDate)}<br>Due date: <strong>${e(doc.dueDate)}</strong><br>Period: ${e(doc.period.label)} (${e(doc.period.from)} to ${e(doc.period.to)})</p></td>
</tr></table>
<table cellpadding="0" cellspacing="0" style="width:100%;max-width:720px;margin:12px 0"><tr>
<td style="vertical-align:top;width:50%"><strong>From</strong><br>${e(doc.seller.name)}<br>${doc.seller.address.map(e).join('<br>')}<br>Tax ID: ${e(doc.seller.taxId)}<br>${e(doc.seller.email)}</td>
<td style="vertical-align:top;width:50%"><strong>To</strong><br>${e(doc.buyer.name)}<br>Subscriber: ${e(doc.buyer.reference)}<br>${e(doc.buyer.email)}</td>
</tr></table>
<p>${e(doc.usage)}</p>
<table cellpadding="0" cellspacing="0" style="width:100%;max-width:720px;border-collapse:collapse">
<tr><th style="${cell};text-align:left">Description</th><th style="${right}">Quantity</th><th style="${right}">Unit price</th><th style="${right}">Amount</th></tr>
${rows}
<tr><th style="${cell};text-align:left" colspan="3">Total</th><th style="${right}">${e(doc.total.amount)}</th></tr></table>`;
}
