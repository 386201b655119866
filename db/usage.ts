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

/**
 * countedDurations of many subscribers' months in one query (the policy preview): each month's
 * counted calls from `fromMs` (the service start, as the close rates them), keyed by
 * `usageKey(subscriber, period)`.
 */
export async function countedDurationsOfMany(pool: Pool, months: readonly { subscriberId: string; period: string; fromMs: number }[]): Promise<Map<string, DurationCount[]>> {
  const { rows } = await pool.query(
    `SELECT c.subscriber_id AS "subscriberId", c.period, c.billable_seconds AS seconds, c.call_seconds AS "callSeconds",
            c.final_segment AS "finalSegment", count(*)::int AS calls
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS m(subscriber_id, period, from_at)
       JOIN calls c ON c.subscriber_id = m.subscriber_id AND c.period = m.period
      WHERE c.period = ANY($4::text[]) AND c.counted AND c.started_at >= m.from_at
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
    [months.map((m) => m.subscriberId), months.map((m) => m.period), months.map((m) => new Date(m.fromMs)), [...new Set(months.map((m) => m.period))]],
  );
  const usage = new Map<string, DurationCount[]>();
  for (const { subscriberId, period, ...count } of rows as (DurationCount & { subscriberId: string; period: string })[]) {
    const key = usageKey(subscriberId, period);
    const list = usage.get(key) ?? [];
    list.push(count);
    usage.set(key, list);
  }
  return usage;
}

export const usageKey = (subscriberId: string, period: string): string => `${subscriberId}\u0000${period}`;

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
