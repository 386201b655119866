/** The text a subscriber's cycle shows in the Temporal UI (billing/cycle-details.ts). */
import { cycleDetails, cycleSummary, formatAmount, invoicedText, lastInvoiceText, planChangeText, terminatedText } from '../../billing/cycle-details';

test('every run of a cycle has the same summary, first in its current details', () => {
  expect(cycleSummary('alice')).toBe('Billing cycle of subscriber alice');
  expect(cycleDetails('alice', '2026-10', 'invoiced', 'Invoice INV-2026-10-alice: 13.05 USD.')).toBe(
    'Billing cycle of subscriber alice\n\n**alice**, 2026-10: invoiced. Invoice INV-2026-10-alice: 13.05 USD.',
  );
});

test('amounts carry their currency', () => {
  expect(formatAmount(1305, 'USD')).toBe('13.05 USD');
  expect(formatAmount(-5, 'EUR')).toBe('-0.05 EUR');
  const invoice = { invoiceId: 'INV-2026-10-alice', totalCents: 1305, overageMinutes: 61, currency: 'USD' };
  expect(invoicedText({ ...invoice, policyVersion: 2, planMinutes: null })).toBe('Invoice INV-2026-10-alice: 13.05 USD, 61 min overage (policy v2).');
  expect(invoicedText({ ...invoice, policyVersion: 2, planMinutes: 500 })).toBe('Invoice INV-2026-10-alice: 13.05 USD, 61 min overage (policy v2, 500-minute plan).');
  expect(lastInvoiceText(invoice)).toBe('Last invoice INV-2026-10-alice: 13.05 USD, overage 61 min.');
  expect(terminatedText('AC-1', '2026-11', invoice, 3)).toBe(
    'Subscription terminated (abuse case AC-1): final invoice INV-2026-10-alice for 2026-11, 13.05 USD. Late calls are billed on final adjustment invoices for 3 months.',
  );
});

test('a run continued before the currency was carried names the last invoice without one; a first run has none', () => {
  expect(lastInvoiceText({ invoiceId: 'INV-2026-09-bob', totalCents: 1000, overageMinutes: 0 })).toBe('Last invoice INV-2026-09-bob: 10.00, overage 0 min.');
  expect(lastInvoiceText(null)).toBe('No invoice yet.');
  expect(terminatedText('AC-2', '2026-11', null, 3)).toContain('no invoice for 2026-11.');
});

test('a minute plan the close changed is named with the month it starts', () => {
  expect(planChangeText(500, '2026-11')).toBe('From 2026-11: the 500-minute plan.');
  expect(planChangeText(null, '2026-11')).toBe('Minute plan removed from 2026-11.');
});
