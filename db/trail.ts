/** The trails of requests and cases: each step once (by key), with its time, actor and detail. */
import type { Pool, PoolClient } from 'pg';

export interface TrailStep {
  /** Unique per step, so a retried activity records it once. */
  key: string;
  /** When it happened by the workflow's clock; null: now. */
  atMs: number | null;
  actor: string;
  kind: string;
  detail: Record<string, unknown>;
}

const TRAILS = {
  limit_request_events: 'request_id',
  abuse_case_events: 'case_id',
} as const;

export async function insertTrailStep(db: Pool | PoolClient, table: keyof typeof TRAILS, ownerId: string, step: TrailStep): Promise<void> {
  await db.query(
    `INSERT INTO ${table} (key, ${TRAILS[table]}, at, actor, kind, detail)
     VALUES ($1, $2, coalesce(to_timestamp($3::double precision / 1000), now()), $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
    [step.key, ownerId, step.atMs, step.actor, step.kind, JSON.stringify(step.detail)],
  );
}
