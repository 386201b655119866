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
 * countedDurations of every subscriber's months in `periods` in one query (the policy preview),
 * keyed by `usageKey(subscriber, period)`. `from`: the months that begin a service, whose calls
 * count from that instant (the service start, as the close rates them); in later months every
 * call is after it. One row per subscriber and month, its calls' seconds in arrays: durations
 * rarely repeat within a month, so grouping by them would not make the answer smaller.
 */
export async function countedDurationsOfMany(
  pool: Pool,
  periods: readonly string[],
  from: readonly { subscriberId: string; period: string; fromMs: number }[],
): Promise<Map<string, DurationCount[]>> {
  const { rows } = await pool.query(
    `SELECT c.subscriber_id AS "subscriberId", c.period,
            array_agg(c.billable_seconds) FILTER (WHERE c.call_seconds IS NULL) AS whole,
            array_agg(ARRAY[c.billable_seconds, c.call_seconds, c.final_segment::int]) FILTER (WHERE c.call_seconds IS NOT NULL) AS shares
       FROM calls c
       LEFT JOIN unnest($2::text[], $3::text[], $4::timestamptz[]) AS m(subscriber_id, period, from_at)
         ON m.subscriber_id = c.subscriber_id AND m.period = c.period
      WHERE c.period = ANY($1::text[]) AND c.counted AND (m.from_at IS NULL OR c.started_at >= m.from_at)
      GROUP BY 1, 2`,
    [periods, from.map((m) => m.subscriberId), from.map((m) => m.period), from.map((m) => new Date(m.fromMs))],
  );
  const usage = new Map<string, DurationCount[]>();
  for (const r of rows as { subscriberId: string; period: string; whole: number[] | null; shares: number[][] | null }[]) {
    usage.set(usageKey(r.subscriberId, r.period), [
      ...(r.whole ?? []).map((seconds) => ({ seconds, calls: 1 })),
      ...(r.shares ?? []).map(([seconds, callSeconds, finalSegment]) => ({ seconds: seconds!, callSeconds: callSeconds!, finalSegment: finalSegment === 1, calls: 1 })),
    ]);
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
