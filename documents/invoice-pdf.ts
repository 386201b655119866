/**
 * The PDF of an invoice document (billing/invoice-document.ts), drawn with pdfkit. Outside the
 * core only because pdfkit reads its font metrics from its package files; it does no other I/O and
 * is deterministic: the same document gives the same bytes (the PDF's dates and file ID come from
 * the issue date and number, not the clock), so an email resent after a crash attaches the same file.
 */
import PDFDocument from 'pdfkit';
import { monthLabel, type InvoiceDocument } from '../billing/invoice-document';

const MARGIN = 50;
const PAGE_WIDTH = 595.28; // A4
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
/** The line table's columns: description, quantity, unit price, amount (x and width). */
const COLUMNS = { description: [MARGIN, 235], quantity: [MARGIN + 240, 60], unitPrice: [MARGIN + 305, 95], amount: [MARGIN + 405, 90] } as const;

export function renderInvoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  const issued = new Date(`${doc.issueDate}T00:00:00Z`);
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: {
      Title: `Invoice ${doc.number}`,
      Author: doc.seller.name,
      Subject: `Invoice ${doc.number} for ${doc.period.label}`,
      Creator: 'RedConnect Billing',
      Producer: 'RedConnect Billing',
      CreationDate: issued,
      ModDate: issued,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  // Heading: the number and dates on the right, the seller on the left.
  pdf.font('Helvetica-Bold').fontSize(14).text(doc.seller.name, MARGIN, MARGIN, { width: 260 });
  pdf.font('Helvetica').fontSize(9);
  for (const line of [...doc.seller.address, `Tax ID: ${doc.seller.taxId}`, doc.seller.email]) pdf.text(line, { width: 260 });
  const headingEnd = pdf.y;
  pdf
    .font('Helvetica-Bold')
    .fontSize(16)
    .text('INVOICE', MARGIN + 280, MARGIN, { width: CONTENT_WIDTH - 280, align: 'right' });
  pdf.font('Helvetica').fontSize(10);
  for (const [label, value] of [
    ['Number', doc.number],
    ['Issue date', doc.issueDate],
    ['Due date', doc.dueDate],
    ['Period', `${doc.period.from} to ${doc.period.to}`],
  ] as const) {
    pdf.text(`${label}: ${value}`, MARGIN + 280, pdf.y, { width: CONTENT_WIDTH - 280, align: 'right' });
  }

  // The buyer.
  pdf.y = Math.max(headingEnd, pdf.y) + 24;
  pdf.font('Helvetica-Bold').fontSize(10).text('Bill to', MARGIN, pdf.y);
  pdf.font('Helvetica').text(doc.buyer.name).text(`Subscriber: ${doc.buyer.reference}`).text(doc.buyer.email);
  pdf.moveDown();
  pdf.text(`${doc.period.label}. ${doc.usage}`, MARGIN, pdf.y, { width: CONTENT_WIDTH });
  pdf.moveDown();

  // The lines.
  const row = (cells: Record<keyof typeof COLUMNS, string>, font: string): void => {
    const top = pdf.y;
    let bottom = top;
    for (const key of Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]) {
      const [x, width] = COLUMNS[key];
      pdf
        .font(font)
        .fontSize(10)
        .text(cells[key], x, top, { width, align: key === 'description' ? 'left' : 'right' });
      bottom = Math.max(bottom, pdf.y);
    }
    pdf.y = bottom + 4;
  };
  const rule = (): void => {
    pdf
      .moveTo(MARGIN, pdf.y)
      .lineTo(PAGE_WIDTH - MARGIN, pdf.y)
      .lineWidth(0.5)
      .strokeColor('#888888')
      .stroke();
    pdf.y += 4;
  };
  row({ description: 'Description', quantity: 'Quantity', unitPrice: 'Unit price', amount: 'Amount' }, 'Helvetica-Bold');
  rule();
  for (const line of doc.lines) {
    const description = line.corrects ? `${line.description}\ncorrects ${monthLabel(line.corrects)} (${line.corrects})` : line.description;
    row({ description, quantity: line.quantity, unitPrice: line.unitPrice, amount: line.amount }, 'Helvetica');
  }
  rule();
  row({ description: `Total (${doc.currency})`, quantity: '', unitPrice: '', amount: doc.total.amount }, 'Helvetica-Bold');

  pdf.moveDown(2);
  pdf
    .font('Helvetica')
    .fontSize(9)
    .text(`Please pay ${doc.total.amount} by ${doc.dueDate}, quoting ${doc.number}. Questions: ${doc.seller.email}.`, MARGIN, pdf.y, { width: CONTENT_WIDTH });
  pdf.end();
  return done;
}
