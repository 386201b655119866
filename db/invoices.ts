import type { Pool } from 'pg';
import type { EmailContent } from '../billing/emails';
import type { CycleRating, InvoiceLine } from '../billing/rating';
import { enqueueEmail, type OutboxEmail } from './outbox';

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
  lines: InvoiceLine[];
}

export interface NewInvoice {
  id: string;
  subscriberId: string;
  period: string;
  policyVersion: number;
  currency: string;
  overageRateMicros: number;
  rating: CycleRating;
}

/**
 * Writes the invoice, its lines and its email in one transaction, once per subscriber and period:
 * a second call (retry, replay, rerun of a close) finds the first and changes nothing.
 */
export async function recordInvoiceOnce(pool: Pool, invoice: NewInvoice, email: { to: string; content: EmailContent }): Promise<{ created: boolean; emailKey: string }> {
  const emailKey = `invoice:${invoice.id}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = invoice.rating;
    const inserted = await client.query(
      `INSERT INTO invoices (id, subscriber_id, period, policy_version, currency, calls, used_seconds,
                             allowance_seconds, overage_minutes, overage_rate_micros, total_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT ON CONSTRAINT invoices_once DO NOTHING RETURNING id`,
      [invoice.id, invoice.subscriberId, invoice.period, invoice.policyVersion, invoice.currency, r.calls,
        r.usedSeconds, r.allowanceSeconds, r.overageMinutes, invoice.overageRateMicros, r.totalCents],
    );
    const created = inserted.rowCount === 1;
    if (created) {
      for (const [index, line] of r.lines.entries()) {
        await client.query(
          `INSERT INTO invoice_lines (invoice_id, line_no, kind, description, quantity, unit_price_micros, amount_cents)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [invoice.id, index + 1, line.kind, line.description, line.quantity, line.unitPriceMicros, line.amountCents],
        );
      }
      const outboxEmail: OutboxEmail = { key: emailKey, purpose: 'invoice', subscriberId: invoice.subscriberId, to: email.to, ...email.content };
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

const INVOICE_COLUMNS = `id, subscriber_id AS "subscriberId", period, policy_version AS "policyVersion", currency, calls,
  used_seconds AS "usedSeconds", allowance_seconds AS "allowanceSeconds", overage_minutes AS "overageMinutes",
  overage_rate_micros AS "overageRateMicros", total_cents AS "totalCents",
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt"`;

export async function listInvoices(pool: Pool, filter: { period?: string; subscriberId?: string }): Promise<Omit<InvoiceRecord, 'lines'>[]> {
  const { rows } = await pool.query(
    `SELECT ${INVOICE_COLUMNS} FROM invoices
      WHERE ($1::text IS NULL OR period = $1) AND ($2::text IS NULL OR subscriber_id = $2)
      ORDER BY period, subscriber_id`,
    [filter.period ?? null, filter.subscriberId ?? null],
  );
  return rows;
}

export async function getInvoice(pool: Pool, id: string): Promise<InvoiceRecord | undefined> {
  const { rows } = await pool.query(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE id = $1`, [id]);
  if (!rows[0]) return undefined;
  const lines = await pool.query(
    `SELECT kind, description, quantity, unit_price_micros AS "unitPriceMicros", amount_cents AS "amountCents"
       FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no`,
    [id],
  );
  return { ...rows[0], lines: lines.rows };
}

export interface PeriodCloseTotals {
  invoices: number;
  emailed: number;
  calls: number;
  usedSeconds: number;
  overageMinutes: number;
  totalCents: number;
}

export async function periodCloseTotals(pool: Pool, period: string): Promise<PeriodCloseTotals> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS invoices,
            count(*) FILTER (WHERE o.status = 'sent')::int AS emailed,
            coalesce(sum(i.calls), 0)::bigint AS calls,
            coalesce(sum(i.used_seconds), 0)::bigint AS "usedSeconds",
            coalesce(sum(i.overage_minutes), 0)::bigint AS "overageMinutes",
            coalesce(sum(i.total_cents), 0)::bigint AS "totalCents"
       FROM invoices i LEFT JOIN email_outbox o ON o.idempotency_key = 'invoice:' || i.id
      WHERE i.period = $1`,
    [period],
  );
  return rows[0];
}
