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
  plan: { minutes: number; feeCents: number } | null;
  /** The overage charge of the invoice's own month (its overage line), for later adjustments. */
  overageCents: number;
  /** Late-call adjustments of earlier months carried by this invoice. */
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
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
                             allowance_seconds, overage_minutes, overage_rate_micros, total_cents,
                             plan_minutes, plan_fee_cents, overage_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT ON CONSTRAINT invoices_once DO NOTHING RETURNING id`,
      [invoice.id, invoice.subscriberId, invoice.period, invoice.policyVersion, invoice.currency, r.calls,
        r.usedSeconds, r.allowanceSeconds, r.overageMinutes, invoice.overageRateMicros, r.totalCents,
        invoice.plan?.minutes ?? null, invoice.plan?.feeCents ?? null, invoice.overageCents],
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
      for (const adjustment of invoice.adjustments) {
        await client.query(
          'INSERT INTO invoice_adjustments (invoice_id, adjusted_period, overage_minutes, amount_cents) VALUES ($1, $2, $3, $4)',
          [invoice.id, adjustment.period, adjustment.overageMinutes, adjustment.amountCents],
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

export interface BilledOverage {
  period: string;
  policyVersion: number;
  planMinutes: number | null;
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
    `SELECT i.period, i.policy_version AS "policyVersion", i.plan_minutes AS "planMinutes",
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
  return rows.map((r) => ({ ...r, billedMinutes: Number(r.billedMinutes), billedCents: Number(r.billedCents) }));
}
