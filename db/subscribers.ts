import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './pool';

export interface Subscriber {
  id: string;
  name: string | null;
  email: string;
  timezone: string;
  business: boolean;
  monthlyFeeCents: number;
  accountCode: string | null;
  serviceStart: string;
  status: 'active' | 'suspended' | 'terminated';
  numbers: string[];
}

export interface NewSubscriber {
  id: string;
  name?: string;
  email: string;
  timezone: string;
  business: boolean;
  monthlyFeeCents: number;
  accountCode?: string;
  serviceStart: string;
  numbers: string[];
}

const SELECT = `
  SELECT s.id, s.name, s.email, s.timezone, s.business, s.monthly_fee_cents, s.account_code,
         s.service_start, s.status,
         coalesce(array_agg(n.number ORDER BY n.number) FILTER (WHERE n.number IS NOT NULL), '{}') AS numbers
    FROM subscribers s LEFT JOIN subscriber_numbers n ON n.subscriber_id = s.id`;

function fromRow(row: Record<string, unknown>): Subscriber {
  return {
    id: row.id as string,
    name: row.name as string | null,
    email: row.email as string,
    timezone: row.timezone as string,
    business: row.business as boolean,
    monthlyFeeCents: row.monthly_fee_cents as number,
    accountCode: row.account_code as string | null,
    serviceStart: row.service_start as string,
    status: row.status as Subscriber['status'],
    numbers: row.numbers as string[],
  };
}

export class DuplicateError extends Error {}

export async function insertSubscriber(pool: Pool, s: NewSubscriber): Promise<void> {
  await inTransaction(pool, (client) => insertSubscriberIn(client, s));
}

/** Inserts the subscriber and their numbers in the caller's transaction; a duplicate is a DuplicateError. */
export async function insertSubscriberIn(client: PoolClient, s: NewSubscriber): Promise<void> {
  try {
    await client.query(
      `INSERT INTO subscribers (id, name, email, timezone, business, monthly_fee_cents, account_code, service_start)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [s.id, s.name ?? null, s.email, s.timezone, s.business, s.monthlyFeeCents, s.accountCode ?? null, s.serviceStart],
    );
    for (const number of s.numbers) {
      await client.query('INSERT INTO subscriber_numbers (number, subscriber_id) VALUES ($1, $2)', [number, s.id]);
    }
  } catch (error) {
    throw translateUniqueViolation(error, s);
  }
}

function translateUniqueViolation(error: unknown, s: NewSubscriber): unknown {
  const pgError = error as { code?: string; constraint?: string; detail?: string };
  if (pgError.code !== '23505') return error;
  if (pgError.constraint === 'subscribers_pkey') return new DuplicateError(`subscriber "${s.id}" already exists`);
  if (pgError.constraint === 'subscribers_account_code_key') return new DuplicateError(`account code "${s.accountCode}" already belongs to another subscriber`);
  if (pgError.constraint === 'subscriber_numbers_pkey') return new DuplicateError(`number already registered to another subscriber: ${pgError.detail ?? ''}`);
  return error;
}

export async function getSubscriber(db: Pool | PoolClient, id: string): Promise<Subscriber | undefined> {
  const { rows } = await db.query(`${SELECT} WHERE s.id = $1 GROUP BY s.id`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listSubscribers(db: Pool, options: { afterId?: string; limit?: number } = {}): Promise<Subscriber[]> {
  const { rows } = await db.query(`${SELECT} WHERE ($1::text IS NULL OR s.id > $1) GROUP BY s.id ORDER BY s.id LIMIT $2`, [options.afterId ?? null, options.limit ?? 10_000]);
  return rows.map(fromRow);
}

/** Ids of the subscribers billed for a period: in service on or before its last day, after `afterId`. */
export async function billableSubscriberIds(db: Pool, period: string, afterId: string | undefined, limit: number): Promise<{ id: string; serviceStart: string }[]> {
  const { rows } = await db.query(
    `SELECT id, service_start FROM subscribers
      WHERE status <> 'terminated'
        AND service_start < (to_date($1, 'YYYY-MM') + interval '1 month')
        AND ($2::text IS NULL OR id > $2)
      ORDER BY id LIMIT $3`,
    [period, afterId ?? null, limit],
  );
  return rows.map((r) => ({ id: r.id as string, serviceStart: r.service_start as string }));
}
