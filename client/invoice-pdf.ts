/**
 * An invoice's PDF as its email attached it (`billing invoices pdf`, the console's invoice link):
 * the document stored with the email, or, for an invoice mailed before documents existed, the
 * document drawn now from the invoice and its subscriber.
 */
import type { Pool } from 'pg';
import { buildInvoiceDocument, type InvoiceDocument, type Seller } from '../billing/invoice-document';
import { getInvoice } from '../db/invoices';
import { mailedInvoiceDocument } from '../db/outbox';
import { getSubscriber } from '../db/subscribers';

/** The invoice's document, by its id or number; undefined when there is no such invoice. */
export async function invoiceDocumentOf(pool: Pool, seller: Seller, idOrNumber: string): Promise<{ invoiceId: string; document: InvoiceDocument } | undefined> {
  const invoice = await getInvoice(pool, idOrNumber);
  if (!invoice) return undefined;
  let document = await mailedInvoiceDocument(pool, invoice.id);
  if (!document) {
    const subscriber = await getSubscriber(pool, invoice.subscriberId);
    if (!subscriber) throw new Error(`invoice ${invoice.id} names subscriber ${invoice.subscriberId}, who does not exist`);
    document = buildInvoiceDocument({ invoice, seller, buyer: subscriber });
  }
  return { invoiceId: invoice.id, document };
}

/** The PDF's bytes. pdfkit is loaded only when a PDF is drawn: every other command starts without it. */
export function renderPdf(document: InvoiceDocument): Promise<Buffer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a PDF is drawn
  const { renderInvoicePdf } = require('../documents/invoice-pdf') as typeof import('../documents/invoice-pdf');
  return renderInvoicePdf(document);
}
