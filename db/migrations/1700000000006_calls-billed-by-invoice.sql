-- Up Migration
-- Issue 12, money at the seams.
--
-- 1. Every counted call records the invoice that rated it (`invoice_id`). An invoice marks exactly
--    the calls it rates, in the transaction that writes it; every counted call of an invoiced month
--    that no invoice marked is late by definition, whenever it arrived (after the close, or during
--    it between the read and the write), and the next invoice re-rates its month and marks it.
--    `late` stays as what the import saw (the month was invoiced when the call arrived), for reports.
-- 2. A call split at a month boundary is rounded once (DESIGN, "rounding of split calls"): each
--    share of a split call carries the whole call's billable seconds (`call_seconds`) and whether it
--    is the call's last share (`final_segment`), which takes the rounding. NULL: the call is not split.

ALTER TABLE calls
  ADD COLUMN invoice_id text,
  ADD COLUMN call_seconds integer,
  ADD COLUMN final_segment boolean NOT NULL DEFAULT true;

-- Calls already stored: a call of an invoiced month counts as rated by that month's invoice when it
-- arrived well before the invoice was written and not as late. Every other call stays unmarked and
-- makes the next close re-rate its month once; a re-rating charges only the difference from what
-- was billed, so marking too few costs a re-rating, never money.
UPDATE calls c SET invoice_id = i.id
  FROM invoices i
 WHERE i.subscriber_id = c.subscriber_id AND i.period = c.period
   AND c.counted AND NOT c.late AND c.imported_at < i.created_at - interval '1 hour';

-- Shares of calls split at a month boundary before this migration: the whole call's seconds and
-- its last share, from the record the shares came from.
UPDATE calls c SET call_seconds = r.billable_seconds,
       final_segment = c.segment = (SELECT max(s.segment) FROM calls s
                                     WHERE s.record_key = c.record_key AND s.subscriber_id = c.subscriber_id AND s.direction = c.direction)
  FROM cdr_records r
 WHERE r.record_key = c.record_key AND r.billable_seconds <> c.billable_seconds;

-- Down Migration
ALTER TABLE calls DROP COLUMN invoice_id, DROP COLUMN call_seconds, DROP COLUMN final_segment;
