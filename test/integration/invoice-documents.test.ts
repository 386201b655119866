/**
 * The invoice document (issue 16): an invoice written by the close's activity (real PostgreSQL)
 * is mailed (real SMTP) with its PDF attached; the PDF is rendered to an image (pdftoppm) and its
 * text extracted (pdftotext), and both are checked against the invoice to the cent: number, dates,
 * seller, buyer, period, every line with quantity, unit price and amount, the adjustment with the
 * month it corrects, the total. The email's HTML shows the same; `billing invoices pdf` writes the
 * same bytes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { createCycleActivities } from '../../activities/cycle';
import { outboxDelivery } from '../../activities/mail';
import { buildInvoiceDocument, type Seller } from '../../billing/invoice-document';
import { formatCents, formatMicros } from '../../billing/money';
import { getInvoice, type InvoiceRecord } from '../../db/invoices';
import { getSubscriber } from '../../db/subscribers';
import { renderInvoicePdf } from '../../documents/invoice-pdf';
import { billingIn } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp';
import { TEST_MAIL_FROM, TEST_OPS_EMAIL } from '../helpers/temporal';

const ARTIFACTS = path.resolve(__dirname, '../artifacts');
const SELLER: Seller = { name: 'RedConnect Test Telecom GmbH', address: ['Hafenstraße 7', '20457 Hamburg', 'Germany'], taxId: 'DE123456789', email: 'invoices@redconnect.example' };

let db: TestDatabase;
let smtp: TestSmtpServer;
let mailer: Transporter;
let february: InvoiceRecord;
let mail: ReceivedMail;
let pdf: Buffer;
const saved = { ...process.env };

beforeAll(async () => {
  [db, smtp] = await Promise.all([createTestDatabase(), startSmtpServer()]);
  mailer = nodemailer.createTransport({ url: smtp.url });
  await givenSubscriber(db.pool, { id: 'ada', name: 'Ada Lovelace', email: 'ada@example.test', monthlyFeeCents: 2999, serviceStart: '2026-01-01' });
  // January: 14 calls of 3 h, 2520 min against 2400 included: 120 min overage at 0.05 = 6.00.
  await givenCalls(
    db.pool,
    Array.from({ length: 14 }, (_, i) => ({ subscriber: 'ada', start: `2026-01-${String(i + 5).padStart(2, '0')} 09:00:00`, seconds: 10_800 })),
  );
  const activities = createCycleActivities(db.pool, outboxDelivery(db.pool, mailer, { mailFrom: TEST_MAIL_FROM, billingOpsEmail: TEST_OPS_EMAIL }), SELLER);
  const january = await activities.writeInvoice({ subscriberId: 'ada', period: '2026-01' });
  expect(january?.mail).toBe('sent');
  // A January call arrives late (10 min more overage, 0.50), then February closes with it.
  await givenCalls(db.pool, [
    { subscriber: 'ada', start: '2026-01-30 10:00:00', seconds: 600 },
    { subscriber: 'ada', start: '2026-02-03 10:00:00', seconds: 60 },
  ]);
  const written = await activities.writeInvoice({ subscriberId: 'ada', period: '2026-02' });
  expect(written?.mail).toBe('sent');
  february = (await getInvoice(db.pool, written!.invoiceId))!;
  const received = await smtp.waitForCount(2);
  mail = received.find((m) => m.subject.includes('2026-02'))!;
  expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([[`${february.number}.pdf`, 'application/pdf']]);
  pdf = mail.attachments[0]!.content;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, 'invoice-document.pdf'), pdf);
});

afterAll(async () => {
  process.env = saved;
  mailer?.close();
  await Promise.all([db?.drop(), smtp?.close()]);
});

const addDays = (day: string, days: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

test("the invoice has its number, issued today (UTC) and due 14 days later (the policy's payment terms)", () => {
  expect(february.number).toMatch(/^RC-\d{4}-\d{6}$/);
  expect(february.issueDate).toBe(new Date().toISOString().slice(0, 10));
  expect(february.number.slice(3, 7)).toBe(february.issueDate.slice(0, 4));
  expect(february.dueDate).toBe(addDays(february.issueDate, 14));
  expect(february.totalCents).toBe(2999 + 50);
  expect(february.adjustments).toEqual([{ period: '2026-01', overageMinutes: 10, amountCents: 50 }]);
});

test('the PDF, its text extracted by pdftotext, shows the invoice to the cent', () => {
  const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' });
  fs.writeFileSync(path.join(ARTIFACTS, 'invoice-document.txt'), text);
  const lines = text.split('\n');
  const lineWith = (needle: string): string => {
    const found = lines.find((l) => l.includes(needle));
    if (!found) throw new Error(`no line of the PDF's text has "${needle}":\n${text}`);
    return found;
  };
  expect(lineWith('Number:')).toContain(`Number: ${february.number}`);
  expect(lineWith('Issue date:')).toContain(`Issue date: ${february.issueDate}`);
  expect(lineWith('Due date:')).toContain(`Due date: ${february.dueDate}`);
  expect(lineWith('Period:')).toContain('Period: 2026-02-01 to 2026-02-28');
  for (const seller of [SELLER.name, ...SELLER.address, `Tax ID: ${SELLER.taxId}`, SELLER.email]) lineWith(seller);
  for (const buyer of ['Bill to', 'Ada Lovelace', 'Subscriber: ada', 'ada@example.test']) lineWith(buyer);
  lineWith('February 2026.');

  // Every line: its description, quantity, unit price and amount on one row; the amounts add up to the total.
  expect(february.lines.map((l) => l.kind)).toEqual(['monthly-fee', 'adjustment']);
  let sum = 0;
  for (const line of february.lines) {
    const row = lineWith(line.description);
    const cells = row.trim().split(/\s{2,}/);
    const unit = line.kind === 'adjustment' ? 'min' : 'month';
    expect(cells).toEqual([line.description, `${line.quantity} ${unit}`, `${formatMicros(line.unitPriceMicros)} USD`, `${formatCents(line.amountCents)} USD`]);
    sum += Math.round(Number(cells[3]!.replace(' USD', '')) * 100);
  }
  expect(lineWith('corrects ').trim()).toBe('corrects January 2026 (2026-01)');
  const total = lineWith('Total (USD)')
    .trim()
    .split(/\s{2,}/);
  expect(total).toEqual(['Total (USD)', '30.49 USD']);
  expect(sum).toBe(february.totalCents);
  expect(Math.round(Number(total[1]!.replace(' USD', '')) * 100)).toBe(february.totalCents);
  lineWith(`Please pay 30.49 USD by ${february.dueDate}, quoting ${february.number}.`);
});

test('the PDF renders to an A4 page image (pdftoppm) with ink where the document is', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invoice-ppm-'));
  try {
    const file = path.join(dir, 'invoice.pdf');
    fs.writeFileSync(file, pdf);
    execFileSync('pdftoppm', ['-png', '-r', '100', '-singlefile', file, path.join(ARTIFACTS, 'invoice-document')]);
    const png = fs.readFileSync(path.join(ARTIFACTS, 'invoice-document.png'));
    // A4 at 100 dpi: 827 × 1170 pixels (the PNG header's width and height).
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([827, 1170]);
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(/Pages:\s+1\n/);
    // The same page as a greyscale image, read pixel by pixel: dark pixels in the heading, the lines and the footer, none below.
    execFileSync('pdftoppm', ['-gray', '-r', '50', '-singlefile', file, path.join(dir, 'page')]);
    const pgm = fs.readFileSync(path.join(dir, 'page.pgm'));
    const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 20).toString('latin1'))!;
    const [width, height] = [Number(header[1]), Number(header[2])];
    const pixels = pgm.subarray(header[0].length);
    const inkIn = (fromRow: number, toRow: number): number => {
      let dark = 0;
      for (let y = fromRow; y < toRow; y++) for (let x = 0; x < width; x++) if (pixels[y * width + x]! < 128) dark++;
      return dark;
    };
    expect(inkIn(0, Math.floor(height * 0.15))).toBeGreaterThan(200);
    expect(inkIn(Math.floor(height * 0.15), Math.floor(height * 0.5))).toBeGreaterThan(200);
    expect(inkIn(Math.floor(height * 0.7), height)).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the PDF is drawn from the one document model, the same bytes every time', async () => {
  const subscriber = (await getSubscriber(db.pool, 'ada'))!;
  const document = buildInvoiceDocument({ invoice: february, seller: SELLER, buyer: subscriber });
  expect((await renderInvoicePdf(document)).equals(pdf)).toBe(true);
  const { rows } = await db.pool.query(`SELECT attachments FROM email_outbox WHERE idempotency_key = $1`, [`invoice:${february.id}`]);
  expect(rows[0].attachments).toEqual([{ filename: `${february.number}.pdf`, invoiceDocument: document }]);
});

test("the email's HTML and text show the same document", () => {
  expect(mail.subject).toBe('Your RedConnect invoice for 2026-02: 30.49 USD');
  for (const body of [mail.html, mail.text]) {
    for (const shown of [
      february.number,
      february.issueDate,
      february.dueDate,
      '2026-02-01',
      '2026-02-28',
      'Ada Lovelace',
      'ada@example.test',
      SELLER.name,
      SELLER.taxId,
      ...SELLER.address,
      'Monthly fee, 2026-02',
      '29.99 USD',
      '0.50 USD',
      '30.49 USD',
      'corrects January 2026 (2026-01)',
    ]) {
      expect(body.includes(shown) || body.includes(shown.replace('ß', '&szlig;'))).toBe(true);
    }
  }
});

test('`billing invoices pdf NUMBER --out FILE` writes the PDF that was mailed; an unknown invoice is named', async () => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url };
  const out = path.join(ARTIFACTS, 'invoice-document-cli.pdf');
  fs.rmSync(out, { force: true });
  const written = await billingIn(env, ['invoices', 'pdf', february.number, '--out', out]);
  expect(written).toMatchObject({ code: 0, stderr: '' });
  expect(written.stdout).toContain(`${february.number} (${february.id}, 30.49 USD) written to ${out}`);
  expect(fs.readFileSync(out).equals(pdf)).toBe(true);
  const unknown = await billingIn(env, ['invoices', 'pdf', 'RC-1999-000001']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('invoice "RC-1999-000001" does not exist');
});
