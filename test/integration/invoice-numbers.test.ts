/**
 * Invoice numbers (issue 16): legal, gap-free per year of issue and unique, taken in the invoice's
 * own transaction, against a real PostgreSQL. Concurrent writes, writes that roll back after
 * taking a number, writes of two years at once, a second write of the same invoice; and the
 * migration that numbers the invoices written before, in order of creation.
 */
import { randomBytes } from 'node:crypto';
import { runner } from 'node-pg-migrate';
import { Client, type Pool } from 'pg';
import type { InvoiceLine } from '../../billing/rating';
import { recordInvoiceOnce, recordRatedInvoiceOnce, type NewInvoice } from '../../db/invoices';
import { MIGRATIONS_DIR } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

function newInvoice(subscriberId: string, period: string, options: { issueDate?: string; adjustments?: NewInvoice['adjustments'] } = {}): NewInvoice {
  const fee: InvoiceLine = { kind: 'monthly-fee', description: `Monthly fee, ${period}`, quantity: 1, unitPriceMicros: 29_990_000, amountCents: 2999 };
  return {
    id: `INV-${period}-${subscriberId}`,
    subscriberId,
    period,
    policyVersion: 1,
    currency: 'USD',
    overageRateMicros: 50_000,
    rating: { period, usedSeconds: 0, calls: 0, allowanceSeconds: 144_000, overageMinutes: 0, lines: [fee], totalCents: 2999 },
    plan: null,
    overageCents: 0,
    adjustments: options.adjustments ?? [],
    paymentTermsDays: 14,
    ...(options.issueDate ? { issueDate: options.issueDate } : {}),
  };
}

const email = (subscriberId: string) => ({ to: `${subscriberId}@example.test`, compose: (n: { number: string }) => ({ subject: n.number, text: n.number, html: n.number }) });

/** Writes an invoice as the close does (recordRatedInvoiceOnce): its number is taken after its usage is marked and rated. */
function writeRated(pool: Pool, invoice: NewInvoice) {
  return recordRatedInvoiceOnce(pool, { invoiceId: invoice.id, subscriberId: invoice.subscriberId, period: invoice.period, fromMs: 0 }, async () => ({
    invoice,
    email: email(invoice.subscriberId),
  }));
}

async function numbersOfYear(pool: Pool, year: number): Promise<{ number: string; issueDate: string; dueDate: string }[]> {
  const { rows } = await pool.query(
    `SELECT number, to_char(issue_date, 'YYYY-MM-DD') AS "issueDate", to_char(due_date, 'YYYY-MM-DD') AS "dueDate"
       FROM invoices WHERE number LIKE $1 ORDER BY number`,
    [`RC-${year}-%`],
  );
  return rows;
}

const expectedNumbers = (year: number, count: number): string[] => Array.from({ length: count }, (_, i) => `RC-${year}-${String(i + 1).padStart(6, '0')}`);

test('concurrent invoice writes take gap-free, unique numbers; writes that roll back after taking one give it back', async () => {
  const ids = Array.from({ length: 24 }, (_, i) => `num-${String(i).padStart(2, '0')}`);
  for (const id of ids) await givenSubscriber(db.pool, { id });
  // A pool as large as the writes: they all run at once, and wait on each other only for the year's counter.
  const pool = createPool(db.url, ids.length);
  try {
    const outcomes = await Promise.allSettled(
      ids.map((id, i) => {
        // Every third write fails after its number is taken (the same month adjusted twice breaks
        // invoice_adjustments' key): its transaction rolls back, number and all.
        const broken =
          i % 3 === 2
            ? {
                adjustments: [
                  { period: '2031-01', overageMinutes: 1, amountCents: 5 },
                  { period: '2031-01', overageMinutes: 1, amountCents: 5 },
                ],
              }
            : {};
        return writeRated(pool, newInvoice(id, '2031-02', { issueDate: '2031-03-01', ...broken }));
      }),
    );
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(8);
    for (const f of failed) expect(String((f as PromiseRejectedResult).reason)).toMatch(/invoice_adjustments_pkey|duplicate key/);
    const numbers = await numbersOfYear(db.pool, 2031);
    expect(numbers.map((n) => n.number)).toEqual(expectedNumbers(2031, 16));
    expect(new Set(numbers.map((n) => n.issueDate))).toEqual(new Set(['2031-03-01']));
    expect(new Set(numbers.map((n) => n.dueDate))).toEqual(new Set(['2031-03-15']));
    const { rows } = await db.pool.query('SELECT last_number AS n FROM invoice_number_counters WHERE year = 2031');
    expect(rows[0].n).toBe(16);

    // The failed ones written again: they continue the sequence; a second write of a written one takes nothing.
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 2) await writeRated(pool, newInvoice(id, '2031-02', { issueDate: '2031-03-02' }));
    }
    const first = await db.pool.query(`SELECT number FROM invoices WHERE id = $1`, [`INV-2031-02-${ids[0]}`]);
    const again = await writeRated(pool, newInvoice(ids[0]!, '2031-02', { issueDate: '2031-03-02' }));
    expect(again?.created).toBe(false);
    expect(again?.invoice.number).toBe(first.rows[0].number);
    expect((await numbersOfYear(db.pool, 2031)).map((n) => n.number)).toEqual(expectedNumbers(2031, 24));
  } finally {
    await pool.end();
  }
});

test('each year numbers from 1, also while two years are written at once; the legacy write numbers once', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `year-${String(i).padStart(2, '0')}`);
  for (const id of ids) await givenSubscriber(db.pool, { id });
  const pool = createPool(db.url, ids.length);
  try {
    // December's invoices issued on New Year's Eve and on New Year's Day, interleaved.
    await Promise.all(ids.map((id, i) => writeRated(pool, newInvoice(id, '2032-11', { issueDate: i % 2 === 0 ? '2032-12-31' : '2033-01-01' }))));
    const y2032 = await numbersOfYear(db.pool, 2032);
    const y2033 = await numbersOfYear(db.pool, 2033);
    expect(y2032.map((n) => n.number)).toEqual(expectedNumbers(2032, 6));
    expect(y2033.map((n) => n.number)).toEqual(expectedNumbers(2033, 6));
    expect(new Set(y2032.map((n) => n.issueDate))).toEqual(new Set(['2032-12-31']));
    expect(new Set(y2033.map((n) => n.issueDate))).toEqual(new Set(['2033-01-01']));
    expect(y2033[0]!.dueDate).toBe('2033-01-15');

    // The legacy write (recordInvoiceOnce), twice at once for one invoice: one number.
    const twice = await Promise.all([0, 1].map(() => recordInvoiceOnce(pool, newInvoice(ids[0]!, '2033-01', { issueDate: '2033-02-01' }), email(ids[0]!))));
    expect(twice.map((t) => t.created).sort()).toEqual([false, true]);
    expect((await numbersOfYear(db.pool, 2033)).map((n) => n.number)).toEqual(expectedNumbers(2033, 7));

    // An invoice is never dated before one with a lower number of its year.
    await writeRated(pool, newInvoice(ids[1]!, '2033-01', { issueDate: '2033-01-20' }));
    const last = (await numbersOfYear(db.pool, 2033)).at(-1)!;
    expect(last).toEqual({ number: 'RC-2033-000008', issueDate: '2033-02-01', dueDate: '2033-02-15' });
  } finally {
    await pool.end();
  }
});

test('the migration numbers the invoices written before it in order of creation, per year', async () => {
  const adminUrl = process.env.BILLING_TEST_ADMIN_URL!;
  const name = `billing_migrate_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.toString() });
  try {
    const before = await runner({
      databaseUrl: url.toString(),
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      log: () => undefined,
      checkOrder: true,
      count: 11,
    });
    expect(before.at(-1)!.name).toBe('1700000000014_operation-writes');
    await client.connect();
    await client.query(`INSERT INTO policies (version, effective_from, state, included_minutes, overage_rate_micros, rounding_increment_seconds, plan_streak_cycles, plan_catalog, alert_thresholds_percent, notice_days, active_from)
                        VALUES (1, '2000-01-01', 'active', 2400, 50000, 1, 3, '[]', '{80,100}', 30, '2000-01-01')`);
    await client.query(
      `INSERT INTO subscribers (id, email, timezone, business, monthly_fee_cents, service_start) VALUES ('old', 'old@example.test', 'UTC', false, 0, '2025-01-01')`,
    );
    // Written out of period order, across a year end.
    const written: [string, string][] = [
      ['2025-11', '2025-12-02 06:00Z'],
      ['2025-10', '2025-12-01 06:00Z'],
      ['2025-12', '2026-01-02 06:00Z'],
      ['2026-01', '2026-02-02 06:00Z'],
    ];
    for (const [period, at] of written) {
      await client.query(
        `INSERT INTO invoices (id, subscriber_id, period, policy_version, currency, calls, used_seconds, allowance_seconds, overage_minutes, overage_rate_micros, total_cents, created_at)
                          VALUES ($1, 'old', $2, 1, 'USD', 0, 0, 144000, 0, 50000, 0, $3)`,
        [`INV-${period}-old`, period, at],
      );
    }
    const after = await runner({ databaseUrl: url.toString(), dir: MIGRATIONS_DIR, direction: 'up', migrationsTable: 'pgmigrations', log: () => undefined, checkOrder: true });
    expect(after.map((m) => m.name)).toContain('1700000000015_invoice-numbers');
    const { rows } = await client.query(`SELECT period, number, to_char(issue_date, 'YYYY-MM-DD') AS issued, to_char(due_date, 'YYYY-MM-DD') AS due FROM invoices ORDER BY period`);
    expect(rows).toEqual([
      { period: '2025-10', number: 'RC-2025-000001', issued: '2025-12-01', due: '2025-12-15' },
      { period: '2025-11', number: 'RC-2025-000002', issued: '2025-12-02', due: '2025-12-16' },
      { period: '2025-12', number: 'RC-2026-000001', issued: '2026-01-02', due: '2026-01-16' },
      { period: '2026-01', number: 'RC-2026-000002', issued: '2026-02-02', due: '2026-02-16' },
    ]);
    const counters = await client.query('SELECT year, last_number AS n FROM invoice_number_counters ORDER BY year');
    expect(counters.rows).toEqual([
      { year: 2025, n: 2 },
      { year: 2026, n: 2 },
    ]);
    // The next invoice continues its year.
    const pool = createPool(url.toString(), 2);
    try {
      await recordInvoiceOnce(pool, newInvoice('old', '2026-02', { issueDate: '2026-03-02' }), email('old'));
      expect((await numbersOfYear(pool, 2026)).map((n) => n.number)).toEqual(expectedNumbers(2026, 3));
    } finally {
      await pool.end();
    }
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
