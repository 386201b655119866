/**
 * Where a month's close stands, read from PostgreSQL (issue 12, item 3): both sides of completion
 * count one population, the subscribers billable for the month, and only their invoices.
 *
 * A subscriber is billable for a month when in service before its end and not terminated before
 * it began (in their zone): a termination during the month ends with a final invoice for it.
 * A termination is the decision of an abuse case (db/abuse.ts settleAbuseDecision: the case's
 * state `terminated`, decided at `decided_at`); a hold's `starts_at` is not its time, since a
 * suspension escalated to a termination keeps its hold's start.
 */
import type { Pool, PoolClient } from 'pg';
import type { CloseFailure, CloseProgressCounts } from '../billing/month-close';
import type { PeriodCloseTotals } from '../billing/emails';

/** `s` is billable for the period `$1`. */
const BILLABLE = `s.service_start < (to_date($1, 'YYYY-MM') + interval '1 month')
  AND (s.status <> 'terminated' OR EXISTS (
    SELECT 1 FROM abuse_cases c
     WHERE c.subscriber_id = s.id AND c.state = 'terminated'
       AND c.decided_at >= (to_date($1, 'YYYY-MM')::timestamp AT TIME ZONE s.timezone)))`;

/** The failures listed in a progress snapshot and the summary email; the count covers all. */
const FAILURES_LISTED = 50;

export interface CloseProgressSnapshot extends PeriodCloseTotals, CloseProgressCounts {
  /** Subscribers billable for the month. */
  subscribers: number;
  /** Invoices whose email the mail server refused for good (outbox status `failed`). */
  mailFailed: number;
  /**
   * Subscribers without an invoice whose close of this month, or of an earlier one their cycle
   * was still closing, failed for good; and the first of them with the reason.
   */
  failed: number;
  failures: CloseFailure[];
}

export async function closeProgressSnapshot(db: Pool | PoolClient, period: string): Promise<CloseProgressSnapshot> {
  const { rows } = await db.query(
    `WITH population AS (SELECT s.id FROM subscribers s WHERE ${BILLABLE}),
          billed AS (
            SELECT i.*, o.status AS mail FROM invoices i
              JOIN population p ON p.id = i.subscriber_id
              LEFT JOIN email_outbox o ON o.idempotency_key = 'invoice:' || i.id
             WHERE i.period = $1),
          -- A cycle closes its months in order: one that failed at an earlier month never reaches this one.
          failed AS (
            SELECT DISTINCT ON (f.subscriber_id) f.subscriber_id,
                   CASE WHEN f.period = $1 THEN f.reason ELSE f.reason || ' (closing ' || f.period || ')' END AS reason
              FROM close_failures f
              JOIN population p ON p.id = f.subscriber_id
             WHERE f.period <= $1 AND NOT EXISTS (SELECT 1 FROM billed b WHERE b.subscriber_id = f.subscriber_id)
               -- a failure its month's invoice has since superseded (the cause fixed, the cycle moved on) is over
               AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.subscriber_id = f.subscriber_id AND i.period = f.period)
             ORDER BY f.subscriber_id, f.period DESC)
     SELECT (SELECT count(*) FROM population)::int AS subscribers,
            count(*)::int AS invoices,
            count(*) FILTER (WHERE mail = 'sent')::int AS emailed,
            count(*) FILTER (WHERE mail = 'failed')::int AS "mailFailed",
            count(*) FILTER (WHERE mail IS DISTINCT FROM 'sent' AND mail IS DISTINCT FROM 'failed')::int AS "mailPending",
            (SELECT count(*) FROM failed)::int AS failed,
            coalesce(sum(calls), 0)::bigint AS calls,
            coalesce(sum(used_seconds), 0)::bigint AS "usedSeconds",
            coalesce(sum(overage_minutes), 0)::bigint AS "overageMinutes",
            coalesce(sum(total_cents), 0)::bigint AS "totalCents",
            coalesce((SELECT json_agg(json_build_object('subscriberId', subscriber_id, 'reason', reason) ORDER BY subscriber_id)
                        FROM (SELECT * FROM failed ORDER BY subscriber_id LIMIT ${FAILURES_LISTED}) listed), '[]') AS failures
       FROM billed`,
    [period],
  );
  const row = rows[0];
  return { ...row, open: row.subscribers - row.invoices - row.failed };
}

/**
 * Billable subscribers of the period, not terminated, with neither an invoice nor a failure for
 * it, whom no close of the period has asked yet: added after the fan-out passed their id.
 */
export async function subscribersNotAskedToClose(db: Pool, period: string, limit: number): Promise<{ id: string; serviceStart: string }[]> {
  const { rows } = await db.query(
    `SELECT s.id, s.service_start AS "serviceStart" FROM subscribers s
      WHERE ${BILLABLE} AND s.status <> 'terminated'
        AND NOT EXISTS (SELECT 1 FROM close_requests r WHERE r.period = $1 AND r.subscriber_id = s.id)
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.period = $1 AND i.subscriber_id = s.id)
        AND NOT EXISTS (SELECT 1 FROM close_failures f WHERE f.period <= $1 AND f.subscriber_id = s.id
                          AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.subscriber_id = s.id AND i.period = f.period))
      ORDER BY s.id LIMIT $2`,
    [period, limit],
  );
  return rows;
}

/** Remembers that these subscribers' entities were asked to close the period. */
export async function recordCloseRequests(db: Pool, period: string, subscriberIds: string[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db.query(`INSERT INTO close_requests (period, subscriber_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, [period, subscriberIds]);
}

/** A subscriber's close of the period failed for good; recorded once (a retry keeps the first time, the latest reason). */
export async function recordCloseFailure(db: Pool, failure: { subscriberId: string; period: string; reason: string }): Promise<void> {
  await db.query(
    `INSERT INTO close_failures (subscriber_id, period, reason) VALUES ($1, $2, $3)
     ON CONFLICT (subscriber_id, period) DO UPDATE SET reason = EXCLUDED.reason`,
    [failure.subscriberId, failure.period, failure.reason],
  );
}
