/** The invoice document model (billing/invoice-document.ts) and the payment terms as a policy parameter. Pure. */
import { buildInvoiceDocument, invoiceDocumentHtml, invoiceDocumentText, invoiceNumber, monthLabel, type InvoiceDocumentInput } from '../../billing/invoice-document';
import { DEFAULT_POLICY_RULES } from '../../billing/policy';
import { parsePolicyChanges, policyDifferences, rulesProblem } from '../../billing/policy-revision';

const input: InvoiceDocumentInput = {
  invoice: {
    id: 'INV-2026-03-ada',
    number: 'RC-2026-000042',
    issueDate: '2026-04-01',
    dueDate: '2026-04-15',
    period: '2026-03',
    currency: 'USD',
    usedSeconds: 150_030,
    allowanceSeconds: 144_000,
    overageMinutes: 101,
    totalCents: 2999 + 505 + 50 - 10,
    lines: [
      { kind: 'monthly-fee', description: 'Monthly fee, 2026-03', quantity: 1, unitPriceMicros: 29_990_000, amountCents: 2999 },
      { kind: 'overage', description: 'Overage: 101 min past 2400 min', quantity: 101, unitPriceMicros: 50_000, amountCents: 505 },
      { kind: 'adjustment', description: 'Late calls for 2026-01: +10 min overage', quantity: 10, unitPriceMicros: 50_000, amountCents: 50 },
      { kind: 'adjustment', description: 'Late calls for 2026-02: -2 min overage', quantity: -2, unitPriceMicros: 50_000, amountCents: -10 },
    ],
    // Stored by the month they correct, in whatever order the database returns them.
    adjustments: [
      { period: '2026-02', overageMinutes: -2, amountCents: -10 },
      { period: '2026-01', overageMinutes: 10, amountCents: 50 },
    ],
  },
  seller: { name: 'RedConnect <Test> & Co', address: ['1 Harbour Street', 'Springfield'], taxId: 'US 12-3456789', email: 'billing@redconnect.example' },
  buyer: { id: 'ada', name: null, email: 'ada@example.test' },
};

test('invoice numbers: RC-year-six digits, more when a year has more invoices', () => {
  expect(invoiceNumber(2026, 123)).toBe('RC-2026-000123');
  expect(invoiceNumber(2027, 1_234_567)).toBe('RC-2027-1234567');
  expect(() => invoiceNumber(2026, 0)).toThrow('invoice sequence number must be a whole number ≥ 1, got 0');
  expect(monthLabel('2026-12')).toBe('December 2026');
});

test('the document: every line with quantity, unit price, amount; adjustments with the month they correct; the total', () => {
  const doc = buildInvoiceDocument(input);
  expect(doc.period).toEqual({ month: '2026-03', label: 'March 2026', from: '2026-03-01', to: '2026-03-31' });
  expect(doc.buyer).toEqual({ name: 'ada', reference: 'ada', email: 'ada@example.test' });
  expect(doc.lines.map((l) => [l.quantity, l.unitPrice, l.amount, l.corrects])).toEqual([
    ['1 month', '29.99 USD', '29.99 USD', null],
    ['101 min', '0.05 USD', '5.05 USD', null],
    ['10 min', '0.05 USD', '0.50 USD', '2026-01'],
    ['-2 min', '0.05 USD', '-0.10 USD', '2026-02'],
  ]);
  expect(doc.total).toEqual({ amount: '35.44 USD', cents: 3544 });
  expect(doc.usage).toBe('Used 2500 min 30 s of a 2400 min allowance, 101 min past it.');
  const html = invoiceDocumentHtml(doc);
  expect(html).toContain('RedConnect &lt;Test&gt; &amp; Co');
  expect(html).toContain('corrects February 2026 (2026-02)');
  expect(invoiceDocumentText(doc)).toMatch(/Total\s+35\.44 USD$/);
});

test('a document whose lines do not add up to its total, or whose adjustments do not match its lines, is refused', () => {
  expect(() => buildInvoiceDocument({ ...input, invoice: { ...input.invoice, totalCents: 1 } })).toThrow(
    'invoice INV-2026-03-ada: its lines add up to 35.44 but its total is 0.01 USD',
  );
  expect(() => buildInvoiceDocument({ ...input, invoice: { ...input.invoice, adjustments: [] } })).toThrow(
    'invoice INV-2026-03-ada has 2 adjustment line(s) but 0 adjustment record(s)',
  );
});

test('payment terms are a policy parameter: 14 days by default, published with --payment-terms-days 0 to 365', () => {
  expect(DEFAULT_POLICY_RULES.paymentTermsDays).toBe(14);
  expect(parsePolicyChanges({ paymentTermsDays: '30' })).toEqual({ paymentTermsDays: 30 });
  expect(() => parsePolicyChanges({ paymentTermsDays: 'soon' })).toThrow('--payment-terms-days: days "soon" must be a whole number');
  expect(rulesProblem({ ...DEFAULT_POLICY_RULES, paymentTermsDays: 400 })).toBe('--payment-terms-days 400 must be 0 to 365 days');
  expect(policyDifferences(DEFAULT_POLICY_RULES, { ...DEFAULT_POLICY_RULES, paymentTermsDays: 30 })).toEqual([
    { parameter: 'paymentTermsDays', label: 'Invoices due after', before: '14 days', after: '30 days' },
  ]);
});
