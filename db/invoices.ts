import type { Pool, PoolClient } from 'pg';
import type { EmailContent } from '../billing/emails';
import { invoiceNumber } from '../billing/invoice-document';
import type { CycleRating, DurationCount, InvoiceLine } from '../billing/rating';
import { enqueueEmail, type OutboxAttachment, type OutboxEmail } from './outbox';

export interface InvoiceRecord {
  id: string;
  subscriberId: string;
  period: string;
  policyVersion: number;
  currency: string;
  calls: number;
  usedSeconds: number;
  allowanceSeconds: number;
  overageMinutes: number;
  overageRateMicros: number;
  totalCents: number;
  createdAt: string;
  /** The legal number, gap-free per year of issue: RC-2026-000123. */
  number: string;
  /** YYYY-MM-DD (UTC). */
  issueDate: string;
  dueDate: string;
  lines: InvoiceLine[];
  /** Late-call adjustments of earlier months, by the month they correct. */
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
}

/** What the invoice's write assigns: its number and dates (the email shows them). */
export interface InvoiceNumbering {
  number: string;
  issueDate: string;
  dueDate: string;
}

/** The invoice's email, composed once its number and dates are assigned, in the same transaction. */
export interface InvoiceEmail {
  to: string;
  compose: (numbering: InvoiceNumbering) => EmailContent & { attachments?: OutboxAttachment[] };
}

export interface NewInvoice {
  id: string;
  subscriberId: string;
  period: string;
  policyVersion: number;
  currency: string;
  overageRateMicros: number;
  rating: CycleRating;
  plan: { minutes: number; feeCents: number } | null;
  /** The overage charge of the invoice's own month (its overage line), for later adjustments. */
  overageCents: number;
  /** Late-call adjustments of earlier months carried by this invoice. */
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
  /** The due date is this many days after the issue date (the policy's payment terms). */
  paymentTermsDays: number;
  /** The issue date (YYYY-MM-DD); the day of the write (UTC) unless given. */
  issueDate?: string;
}

/**
 * Writes the invoice, its lines and its email in one transaction, once per subscriber and period:
 * a second call (retry, replay, rerun of a close) finds the first and changes nothing.
 */
export async function recordInvoiceOnce(pool: Pool, invoice: NewInvoice, email: InvoiceEmail): Promise<{ created: boolean; emailKey: string }> {
  const emailKey = `invoice:${invoice.id}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The legacy cycle's write: a second call for the same subscriber and period changes nothing.
    const numbering = await insertInvoice(client, invoice, { ifNew: true });
    const created = numbering !== null;
    if (numbering) {
      const outboxEmail: OutboxEmail = { key: emailKey, purpose: 'invoice', subscriberId: invoice.subscriberId, to: email.to, ...email.compose(numbering) };
      await enqueueEmail(client, outboxEmail);
    }
    await client.query('COMMIT');
    return { created, emailKey };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** An earlier invoiced month with calls no invoice has rated yet: what it billed, and all its usage now. */
export interface UnbilledMonth {
  period: string;
  policyVersion: number;
  /** The allowance and rate its invoice was rated with: a re-rating uses the same terms. */
  allowanceSeconds: number;
  overageRateMicros: number;
  /** Overage minutes and charge billed for the month so far: its invoice plus later adjustments. */
  billed: { minutes: number; cents: number };
  /** Every counted call of the month from the service start, those just marked included. */
  durations: DurationCount[];
}

/** What the rating makes of the usage an invoice marked: the invoice and its email. */
export type PriceInvoice = (own: DurationCount[], unbilled: UnbilledMonth[]) => Promise<{ invoice: NewInvoice; email: InvoiceEmail } | null>;

export interface RatedInvoice {
  created: boolean;
  emailKey: string;
  invoice: Omit<InvoiceRecord, 'lines' | 'adjustments'>;
}

const DURATIONS = `billable_seconds AS seconds, call_seconds AS "callSeconds", final_segment AS "finalSegment", count(*)::int AS calls`;

/**
 * Writes a subscriber's invoice for a period once, rated from exactly the calls it marks (DESIGN,
 * "late usage"): in one transaction it marks the period's counted calls from `fromMs` (the service
 * start) that no invoice has rated, and the unrated calls of earlier invoiced months, then has
 * `price` rate them and writes the invoice, its lines, adjustments and email. A call an import
 * commits while this runs is not marked, so it is late by definition and the next invoice bills
 * it: nothing is lost between the read and the write, and nothing is billed twice. A second call
 * for the same period finds the invoice and changes nothing. `price` may decide there is nothing to
 * invoice (null): then nothing is written or marked.
 */
export async function recordRatedInvoiceOnce(
  pool: Pool,
  key: { invoiceId: string; subscriberId: string; period: string; fromMs: number; withOwnCalls?: boolean },
  price: PriceInvoice,
): Promise<RatedInvoice | null> {
  const emailKey = `invoice:${key.invoiceId}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One writer per subscriber and period at a time; the second finds the first's invoice.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`invoice:${key.subscriberId}:${key.period}`]);
    const existing = await client.query(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE subscriber_id = $1 AND period = $2`, [key.subscriberId, key.period]);
    if (existing.rows[0]) {
      await client.query('COMMIT');
      return { created: false, emailKey: `invoice:${existing.rows[0].id}`, invoice: existing.rows[0] };
    }
    const from = new Date(key.fromMs);
    const own =
      key.withOwnCalls === false
        ? { rows: [] }
        : await client.query(
            `WITH rated AS (
         UPDATE calls SET invoice_id = $3
          WHERE subscriber_id = $1 AND period = $2 AND counted AND invoice_id IS NULL AND started_at >= $4
          RETURNING billable_seconds, call_seconds, final_segment)
       SELECT ${DURATIONS} FROM rated GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
            [key.subscriberId, key.period, key.invoiceId, from],
          );
    const months = await client.query(
      `SELECT i.period, i.policy_version AS "policyVersion", i.allowance_seconds AS "allowanceSeconds",
              i.overage_rate_micros AS "overageRateMicros",
              i.overage_minutes + coalesce((SELECT sum(a.overage_minutes) FROM invoice_adjustments a JOIN invoices j ON j.id = a.invoice_id
                                             WHERE j.subscriber_id = $1 AND a.adjusted_period = i.period), 0) AS "billedMinutes",
              i.overage_cents + coalesce((SELECT sum(a.amount_cents) FROM invoice_adjustments a JOIN invoices j ON j.id = a.invoice_id
                                           WHERE j.subscriber_id = $1 AND a.adjusted_period = i.period), 0) AS "billedCents"
         FROM invoices i
        WHERE i.subscriber_id = $1 AND i.period < $2
          AND EXISTS (SELECT 1 FROM calls c WHERE c.subscriber_id = $1 AND c.period = i.period AND c.counted
                         AND c.invoice_id IS NULL AND c.started_at >= $3)
        ORDER BY i.period`,
      [key.subscriberId, key.period, from],
    );
    const unbilled: UnbilledMonth[] = [];
    for (const m of months.rows) {
      await client.query(`UPDATE calls SET invoice_id = $3 WHERE subscriber_id = $1 AND period = $2 AND counted AND invoice_id IS NULL AND started_at >= $4`, [
        key.subscriberId,
        m.period,
        key.invoiceId,
        from,
      ]);
      const all = await client.query(`SELECT ${DURATIONS} FROM calls WHERE subscriber_id = $1 AND period = $2 AND counted AND started_at >= $3 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, [
        key.subscriberId,
        m.period,
        from,
      ]);
      unbilled.push({
        period: m.period,
        policyVersion: m.policyVersion,
        allowanceSeconds: Number(m.allowanceSeconds),
        overageRateMicros: Number(m.overageRateMicros),
        billed: { minutes: Number(m.billedMinutes), cents: Number(m.billedCents) },
        durations: all.rows,
      });
    }
    const priced = await price(own.rows, unbilled);
    if (!priced) {
      // Nothing to invoice (a final adjustment with no late calls): nothing marked either.
      await client.query('ROLLBACK');
      return null;
    }
    const { invoice, email } = priced;
    const numbering = await insertInvoice(client, invoice);
    const outboxEmail: OutboxEmail = { key: emailKey, purpose: 'invoice', subscriberId: invoice.subscriberId, to: email.to, ...email.compose(numbering!) };
    await enqueueEmail(client, outboxEmail);
    const written = await client.query(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE id = $1`, [invoice.id]);
    await client.query('COMMIT');
    return { created: true, emailKey, invoice: written.rows[0] };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The invoice's number and dates, taken in the transaction that writes it: the year's counter row
 * (invoice_number_counters) is incremented, and so locked until the transaction ends. A
 * transaction that rolls back gives its number back with everything else, so the numbers of a
 * year have no gaps; the lock makes invoice writes take their numbers one at a time, for the
 * rest of their transactions only (the write's last statements). Never a sequence: a sequence's
 * numbers are not given back on rollback. The issue date is never before that of a lower number.
 */
async function assignNumber(client: PoolClient, invoice: NewInvoice): Promise<InvoiceNumbering> {
  const { rows } = await client.query(
    `WITH issued AS (SELECT coalesce($1::date, (clock_timestamp() AT TIME ZONE 'UTC')::date) AS day)
     INSERT INTO invoice_number_counters AS c (year, last_number, last_issued)
     SELECT extract(year FROM day)::int, 1, day FROM issued
     ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1, last_issued = greatest(c.last_issued, excluded.last_issued)
     RETURNING year, last_number AS n, to_char(last_issued, 'YYYY-MM-DD') AS "issueDate",
               to_char(last_issued + $2::int, 'YYYY-MM-DD') AS "dueDate"`,
    [invoice.issueDate ?? null, invoice.paymentTermsDays],
  );
  const row = rows[0] as { year: number; n: number; issueDate: string; dueDate: string };
  return { number: invoiceNumber(row.year, row.n), issueDate: row.issueDate, dueDate: row.dueDate };
}

/**
 * Writes an invoice with its number, lines and adjustments, and returns its number and dates;
 * `ifNew`: nothing when the period has one (returns null). The number is taken only once the
 * invoice is sure to be written, so no number is spent on an invoice that is not.
 */
async function insertInvoice(client: PoolClient, invoice: NewInvoice, options: { ifNew?: boolean } = {}): Promise<InvoiceNumbering | null> {
  if (options.ifNew) {
    // One writer per subscriber and period at a time (as recordRatedInvoiceOnce); the second finds the first's invoice.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`invoice:${invoice.subscriberId}:${invoice.period}`]);
    const existing = await client.query('SELECT 1 FROM invoices WHERE subscriber_id = $1 AND period = $2', [invoice.subscriberId, invoice.period]);
    if (existing.rowCount) return null;
  }
  const numbering = await assignNumber(client, invoice);
  const r = invoice.rating;
  const inserted = await client.query(
    `INSERT INTO invoices (id, subscriber_id, period, policy_version, currency, calls, used_seconds,
                           allowance_seconds, overage_minutes, overage_rate_micros, total_cents,
                           plan_minutes, plan_fee_cents, overage_cents, number, issue_date, due_date)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      invoice.id,
      invoice.subscriberId,
      invoice.period,
      invoice.policyVersion,
      invoice.currency,
      r.calls,
      r.usedSeconds,
      r.allowanceSeconds,
      r.overageMinutes,
      invoice.overageRateMicros,
      r.totalCents,
      invoice.plan?.minutes ?? null,
      invoice.plan?.feeCents ?? null,
      invoice.overageCents,
      numbering.number,
      numbering.issueDate,
      numbering.dueDate,
    ],
  );
  if (inserted.rowCount !== 1) throw new Error(`invoice ${invoice.id} was not written`);
  for (const [index, line] of r.lines.entries()) {
    await client.query(
      `INSERT INTO invoice_lines (invoice_id, line_no, kind, description, quantity, unit_price_micros, amount_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [invoice.id, index + 1, line.kind, line.description, line.quantity, line.unitPriceMicros, line.amountCents],
    );
  }
  for (const adjustment of invoice.adjustments) {
    await client.query('INSERT INTO invoice_adjustments (invoice_id, adjusted_period, overage_minutes, amount_cents) VALUES ($1, $2, $3, $4)', [
      invoice.id,
      adjustment.period,
      adjustment.overageMinutes,
      adjustment.amountCents,
    ]);
  }
  return numbering;
}

const INVOICE_COLUMNS = `id, subscriber_id AS "subscriberId", period, policy_version AS "policyVersion", currency, calls,
  used_seconds AS "usedSeconds", allowance_seconds AS "allowanceSeconds", overage_minutes AS "overageMinutes",
  overage_rate_micros AS "overageRateMicros", total_cents AS "totalCents",
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
  number, to_char(issue_date, 'YYYY-MM-DD') AS "issueDate", to_char(due_date, 'YYYY-MM-DD') AS "dueDate"`;

export async function listInvoices(pool: Pool, filter: { period?: string; subscriberId?: string }): Promise<Omit<InvoiceRecord, 'lines' | 'adjustments'>[]> {
  const { rows } = await pool.query(
    `SELECT ${INVOICE_COLUMNS} FROM invoices
      WHERE ($1::text IS NULL OR period = $1) AND ($2::text IS NULL OR subscriber_id = $2)
      ORDER BY period, subscriber_id`,
    [filter.period ?? null, filter.subscriberId ?? null],
  );
  return rows;
}

/** An invoice by its id or its number (RC-2026-000123), with its lines and adjustments. */
export async function getInvoice(pool: Pool, id: string): Promise<InvoiceRecord | undefined> {
  const { rows } = await pool.query(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE id = $1 OR number = $1`, [id]);
  if (!rows[0]) return undefined;
  const lines = await pool.query(
    `SELECT kind, description, quantity, unit_price_micros AS "unitPriceMicros", amount_cents AS "amountCents"
       FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no`,
    [rows[0].id],
  );
  const adjustments = await pool.query(
    `SELECT adjusted_period AS period, overage_minutes AS "overageMinutes", amount_cents AS "amountCents"
       FROM invoice_adjustments WHERE invoice_id = $1 ORDER BY adjusted_period`,
    [rows[0].id],
  );
  const num = (v: unknown): number => Number(v);
  return {
    ...rows[0],
    lines: lines.rows.map((l) => ({ ...l, quantity: num(l.quantity), unitPriceMicros: num(l.unitPriceMicros), amountCents: num(l.amountCents) })),
    adjustments: adjustments.rows.map((a) => ({ period: a.period, overageMinutes: num(a.overageMinutes), amountCents: num(a.amountCents) })),
  };
}

export interface BilledOverage {
  period: string;
  policyVersion: number;
  planMinutes: number | null;
  /** The allowance its invoice was rated with: a re-rating of its late calls uses the same. */
  allowanceSeconds: number;
  /** Overage minutes and charge billed for the month so far: its invoice plus later adjustments. */
  billedMinutes: number;
  billedCents: number;
}

/**
 * The subscriber's invoiced months before `period` that have late calls, with what has been billed
 * for their overage so far.
 */
export async function monthsWithLateCalls(pool: Pool, subscriberId: string, period: string): Promise<BilledOverage[]> {
  const { rows } = await pool.query(
    `SELECT i.period, i.policy_version AS "policyVersion", i.plan_minutes AS "planMinutes", i.allowance_seconds AS "allowanceSeconds",
            i.overage_minutes + coalesce(sum(a.overage_minutes), 0) AS "billedMinutes",
            i.overage_cents + coalesce(sum(a.amount_cents), 0) AS "billedCents"
       FROM invoices i
       LEFT JOIN invoice_adjustments a ON a.adjusted_period = i.period
        AND a.invoice_id IN (SELECT id FROM invoices WHERE subscriber_id = $1)
      WHERE i.subscriber_id = $1 AND i.period < $2
        AND EXISTS (SELECT 1 FROM calls c WHERE c.subscriber_id = $1 AND c.period = i.period AND c.late)
      GROUP BY i.id
      ORDER BY i.period`,
    [subscriberId, period],
  );
  return rows.map((r) => ({ ...r, allowanceSeconds: Number(r.allowanceSeconds), billedMinutes: Number(r.billedMinutes), billedCents: Number(r.billedCents) }));
}
