/**
 * Writes imported records in batches: COPY into session-private staging tables, then one
 * set-based statement keeps the records not seen before and their calls. Each batch is one
 * transaction, so an interrupted import leaves whole batches and a rerun adds only the rest.
 */
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export interface StagedRecord {
  key: string;
  line: number;
  startedMs: number;
  answeredMs: number | null;
  billableSeconds: number;
  callingNumber: string | null;
  calledNumber: string | null;
  accountCode: string | null;
  namedSubscriberId: string | null;
  namedDirection: 'outgoing' | 'incoming' | null;
  counted: boolean;
  notCountedReason: string | null;
  callerSubscriberId: string | null;
  calleeSubscriberId: string | null;
}

export interface StagedCall {
  key: string;
  subscriberId: string;
  direction: 'outgoing' | 'incoming';
  segment: number;
  period: string;
  startedMs: number;
  billableSeconds: number;
  counted: boolean;
  notCountedReason: string | null;
}

export interface BatchResult {
  staged: number;
  inserted: number;
  unmatched: number;
  lateCalls: number;
  /** Subscriber and period of every call row that landed, for usage alerts. */
  touched: { subscriberId: string; period: string }[];
}

/** COPY text format: backslash, tab, newline and carriage return escaped; null as \N. */
function copyField(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value !== 'string') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}

function copyLines<T>(rows: T[], fields: (row: T) => (string | number | boolean | null)[]): Readable {
  const chunk = rows.map((row) => `${fields(row).map(copyField).join('\t')}\n`).join('');
  return Readable.from([chunk]);
}

const partitionsKnown = new Set<string>();

/** Creates the month partitions of `calls` that a batch needs (DESIGN, "Growing past one machine"). */
export async function ensureCallPartitions(pool: Pool, periods: Iterable<string>): Promise<void> {
  const missing = [...new Set(periods)].filter((p) => !partitionsKnown.has(p));
  if (missing.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('calls partitions'))");
    for (const period of missing) {
      if (!/^\d{4}-\d{2}$/.test(period)) throw new Error(`bad period ${period}`);
      await client.query(`CREATE TABLE IF NOT EXISTS calls_${period.replace('-', '_')} PARTITION OF calls FOR VALUES IN ('${period}')`);
    }
    await client.query('COMMIT');
    missing.forEach((p) => partitionsKnown.add(p));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function ignoreConnectionError(): void {
  // the failed query reports it
}

export class CdrStore {
  private broken = false;

  private constructor(private readonly pool: Pool, private readonly client: PoolClient, readonly importId: number, private readonly meta: { source: string; format: string }) {}

  static async open(pool: Pool, meta: { source: string; file: string; format: string; timezone: string }): Promise<CdrStore> {
    const { rows } = await pool.query(
      'INSERT INTO usage_imports (source, file, format, timezone) VALUES ($1, $2, $3, $4) RETURNING id',
      [meta.source, meta.file, meta.format, meta.timezone],
    );
    const client = await pool.connect();
    // Held for the whole import: a connection lost between batches must fail the next batch,
    // not end the process with an unhandled error event.
    client.on('error', ignoreConnectionError);
    try {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS stage_records (
        record_key uuid, line integer, started_ms bigint, answered_ms bigint, billable_seconds integer,
        calling_number text, called_number text, account_code text, named_subscriber_id text,
        named_direction text, counted boolean, not_counted_reason text, caller_subscriber_id text,
        callee_subscriber_id text) ON COMMIT DELETE ROWS`);
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS stage_calls (
        record_key uuid, subscriber_id text, direction text, segment smallint, period text,
        started_ms bigint, billable_seconds integer, counted boolean, not_counted_reason text) ON COMMIT DELETE ROWS`);
    } catch (error) {
      client.off('error', ignoreConnectionError);
      client.release();
      throw error;
    }
    return new CdrStore(pool, client, Number(rows[0].id), meta);
  }

  async writeBatch(records: StagedRecord[], calls: StagedCall[]): Promise<BatchResult> {
    if (records.length === 0) return { staged: 0, inserted: 0, unmatched: 0, lateCalls: 0, touched: [] };
    await ensureCallPartitions(this.pool, calls.map((c) => c.period));
    const c = this.client;
    try {
      await c.query('BEGIN');
      await pipeline(
        copyLines(records, (r) => [r.key, r.line, r.startedMs, r.answeredMs, r.billableSeconds, r.callingNumber, r.calledNumber,
          r.accountCode, r.namedSubscriberId, r.namedDirection, r.counted, r.notCountedReason, r.callerSubscriberId, r.calleeSubscriberId]),
        c.query(copyFrom('COPY stage_records FROM STDIN')),
      );
      if (calls.length > 0) {
        await pipeline(
          copyLines(calls, (r) => [r.key, r.subscriberId, r.direction, r.segment, r.period, r.startedMs, r.billableSeconds, r.counted, r.notCountedReason]),
          c.query(copyFrom('COPY stage_calls FROM STDIN')),
        );
      }
      const { rows } = await c.query(
        `WITH new_records AS (
           INSERT INTO cdr_records (record_key, import_id, source, format, line, started_at, answered_at,
             billable_seconds, calling_number, called_number, account_code, named_subscriber_id, named_direction,
             counted, not_counted_reason, caller_subscriber_id, callee_subscriber_id)
           SELECT record_key, $1, $2, $3, line, to_timestamp(started_ms / 1000.0), to_timestamp(answered_ms / 1000.0),
             billable_seconds, calling_number, called_number, account_code, named_subscriber_id, named_direction,
             counted, not_counted_reason, caller_subscriber_id, callee_subscriber_id
             FROM stage_records
           ON CONFLICT (record_key) DO NOTHING
           RETURNING record_key, caller_subscriber_id IS NULL AND callee_subscriber_id IS NULL AS unmatched
         ), new_calls AS (
           INSERT INTO calls (record_key, subscriber_id, direction, segment, period, started_at, billable_seconds,
             counted, not_counted_reason, late)
           SELECT s.record_key, s.subscriber_id, s.direction, s.segment, s.period, to_timestamp(s.started_ms / 1000.0),
             s.billable_seconds, s.counted, s.not_counted_reason,
             EXISTS (SELECT 1 FROM invoices i WHERE i.subscriber_id = s.subscriber_id AND i.period = s.period)
             FROM stage_calls s JOIN new_records n USING (record_key)
           RETURNING subscriber_id, period, late
         )
         SELECT (SELECT count(*)::int FROM new_records) AS inserted,
                (SELECT count(*)::int FROM new_records WHERE unmatched) AS unmatched,
                (SELECT count(*)::int FROM new_calls WHERE late) AS late_calls,
                (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('subscriberId', subscriber_id, 'period', period)), '[]')
                   FROM new_calls) AS touched`,
        [this.importId, this.meta.source, this.meta.format],
      );
      await c.query('COMMIT');
      const r = rows[0];
      return { staged: records.length, inserted: r.inserted, unmatched: r.unmatched, lateCalls: r.late_calls, touched: r.touched };
    } catch (error) {
      await c.query('ROLLBACK').catch(() => { this.broken = true; });
      throw error;
    }
  }

  async finish(summary: unknown): Promise<void> {
    await this.pool.query('UPDATE usage_imports SET finished_at = now(), summary = $2 WHERE id = $1', [this.importId, JSON.stringify(summary)]);
  }

  release(): void {
    this.client.off('error', ignoreConnectionError);
    this.client.release(this.broken);
  }
}
