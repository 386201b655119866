import type { Pool } from 'pg';
import type { DurationCount } from '../billing/rating';

/** The period's counted calls grouped by duration: one small aggregate, rounded by the core. */
export async function countedDurations(pool: Pool, subscriberId: string, period: string): Promise<DurationCount[]> {
  const { rows } = await pool.query(
    `SELECT billable_seconds AS seconds, call_seconds AS "callSeconds", final_segment AS "finalSegment", count(*)::int AS calls FROM calls
      WHERE subscriber_id = $1 AND period = $2 AND counted
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
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
