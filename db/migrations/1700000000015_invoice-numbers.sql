-- Up Migration
-- Invoice documents (issue 16, part 1): every invoice gets a legal number, gap-free per year of
-- issue (RC-2026-000123), an issue date and a due date. A number is taken from the year's counter
-- row, locked until the invoice's transaction ends, never from a sequence: a sequence hands out
-- numbers a rolled-back transaction never gives back, and a legal numbering has no gaps.

CREATE TABLE invoice_number_counters (
  year        integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
  -- the last number issued in the year, and the latest issue date: an invoice is never dated
  -- before one with a lower number of the same year
  last_number integer NOT NULL CHECK (last_number >= 1),
  last_issued date NOT NULL
);

-- The payment terms: the due date is this many days after the issue date (a policy parameter).
ALTER TABLE policies ADD COLUMN payment_terms_days integer NOT NULL DEFAULT 14 CHECK (payment_terms_days BETWEEN 0 AND 365);

ALTER TABLE invoices
  ADD COLUMN number     text,
  ADD COLUMN issue_date date,
  ADD COLUMN due_date   date;

-- Invoices written before: numbered in order of creation within the year they were written (UTC),
-- dated that day, due after their policy version's payment terms.
WITH numbered AS (
  SELECT i.id, d.issued,
         row_number() OVER (PARTITION BY extract(year FROM d.issued) ORDER BY i.created_at, i.id) AS n
    FROM invoices i
    CROSS JOIN LATERAL (SELECT (i.created_at AT TIME ZONE 'UTC')::date AS issued) d
)
UPDATE invoices i
   SET number = format('RC-%s-%s', extract(year FROM n.issued)::int, lpad(n.n::text, 6, '0')),
       issue_date = n.issued,
       due_date = n.issued + (SELECT p.payment_terms_days FROM policies p WHERE p.version = i.policy_version)
  FROM numbered n
 WHERE n.id = i.id;

INSERT INTO invoice_number_counters (year, last_number, last_issued)
SELECT extract(year FROM issue_date)::int, count(*), max(issue_date)
  FROM invoices GROUP BY 1;

ALTER TABLE invoices
  ALTER COLUMN number SET NOT NULL,
  ALTER COLUMN issue_date SET NOT NULL,
  ALTER COLUMN due_date SET NOT NULL,
  ADD CONSTRAINT invoices_number_unique UNIQUE (number),
  ADD CONSTRAINT invoices_number_format CHECK (number ~ '^RC-\d{4}-\d{6,}$'),
  ADD CONSTRAINT invoices_due_after_issue CHECK (due_date >= issue_date);

-- What an email attaches, rendered when it is sent: [{"filename", "invoiceDocument"}], the pure
-- document model (billing/invoice-document.ts), so a resend carries the same PDF.
ALTER TABLE email_outbox ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]';

-- Down Migration
ALTER TABLE email_outbox DROP COLUMN attachments;
ALTER TABLE invoices
  DROP CONSTRAINT invoices_due_after_issue,
  DROP CONSTRAINT invoices_number_format,
  DROP CONSTRAINT invoices_number_unique,
  DROP COLUMN due_date,
  DROP COLUMN issue_date,
  DROP COLUMN number;
ALTER TABLE policies DROP COLUMN payment_terms_days;
DROP TABLE invoice_number_counters;
