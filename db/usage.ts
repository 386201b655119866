import type { Pool } from 'pg';
import type { DurationCount } from '../billing/rating';

export interface CallSegmentRow {
  recordKey: string;
  subscriberId: string;
  segment: number;
  period: string;
  startedAtMs: number;
  billableSeconds: number;
  direction: 'outgoing' | 'incoming';
  counted: boolean;
  notCountedReason: string | null;
  source: string;
}

/** Inserts a batch in one statement; rows already present (same key) are skipped. Returns how many landed. */
export async function insertCallSegments(pool: Pool, rows: CallSegmentRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await pool.query(
    `INSERT INTO calls (record_key, subscriber_id, segment, period, started_at, billable_seconds,
                        direction, counted, not_counted_reason, source)
     SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::timestamptz[],
                          $6::int[], $7::text[], $8::boolean[], $9::text[], $10::text[])
     ON CONFLICT ON CONSTRAINT calls_once DO NOTHING`,
    [
      rows.map((r) => r.recordKey), rows.map((r) => r.subscriberId), rows.map((r) => r.segment),
      rows.map((r) => r.period), rows.map((r) => new Date(r.startedAtMs).toISOString()),
      rows.map((r) => r.billableSeconds), rows.map((r) => r.direction), rows.map((r) => r.counted),
      rows.map((r) => r.notCountedReason), rows.map((r) => r.source),
    ],
  );
  return rowCount ?? 0;
}

/** The period's counted calls grouped by duration: one small aggregate, rounded by the core. */
export async function countedDurations(pool: Pool, subscriberId: string, period: string): Promise<DurationCount[]> {
  const { rows } = await pool.query(
    `SELECT billable_seconds AS seconds, count(*)::int AS calls FROM calls
      WHERE subscriber_id = $1 AND period = $2 AND counted
      GROUP BY billable_seconds ORDER BY billable_seconds`,
    [subscriberId, period],
  );
  return rows as DurationCount[];
}

export interface UsageDay {
  day: string;
  countedCalls: number;
  countedSeconds: number;
  notCountedCalls: number;
  notCountedSeconds: number;
}

export async function usageByDay(pool: Pool, subscriberId: string, period: string, timezone: string): Promise<UsageDay[]> {
  const { rows } = await pool.query(
    `SELECT to_char((started_at AT TIME ZONE $3)::date, 'YYYY-MM-DD') AS day,
            count(*) FILTER (WHERE counted)::int AS "countedCalls",
            coalesce(sum(billable_seconds) FILTER (WHERE counted), 0)::int AS "countedSeconds",
            count(*) FILTER (WHERE NOT counted)::int AS "notCountedCalls",
            coalesce(sum(billable_seconds) FILTER (WHERE NOT counted), 0)::int AS "notCountedSeconds"
       FROM calls WHERE subscriber_id = $1 AND period = $2
      GROUP BY 1 ORDER BY 1`,
    [subscriberId, period, timezone],
  );
  return rows as UsageDay[];
}
