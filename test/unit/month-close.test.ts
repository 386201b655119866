/** When a month's close is complete, and what its summary for billing operations says (issue 12, items 3 and 16). */
import { closeSummaryEmail } from '../../billing/emails';
import { closeComplete } from '../../billing/month-close';

test('a close is complete when no billable subscriber is open and no invoice email is pending', () => {
  expect(closeComplete({ open: 0, mailPending: 0 })).toBe(true);
  expect(closeComplete({ open: 1, mailPending: 0 })).toBe(false);
  expect(closeComplete({ open: 0, mailPending: 1 })).toBe(false);
});

test('the summary shows invoices and mails apart, and lists the failed subscribers with their reason', () => {
  const totals = { period: '2026-10', currency: 'USD', subscribers: 4, invoices: 2, emailed: 1, mailFailed: 1, calls: 3, usedSeconds: 600, overageMinutes: 0, totalCents: 4000 };
  const mail = closeSummaryEmail({ ...totals, failed: 2, failures: [{ subscriberId: 'ann', reason: 'no policy version is in effect on 1970-01-01' }] });
  expect(mail.subject).toBe('Monthly close 2026-10: 2 invoices, 40.00 USD, 2 failed');
  expect(mail.text).toContain('Invoices written: 2\nInvoices mailed: 1\nInvoice emails refused by the mail server: 1\nSubscribers whose close failed: 2');
  expect(mail.text).toContain('  ann: no policy version is in effect on 1970-01-01\n  and 1 more');
  expect(mail.html).toContain('<li>ann: no policy version is in effect on 1970-01-01</li>');
  // Without failures, as before.
  expect(closeSummaryEmail({ ...totals, failed: 0, failures: [] }).subject).toBe('Monthly close 2026-10: 2 invoices, 40.00 USD');
});
