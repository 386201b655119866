/**
 * What the worker's metrics endpoint reads from PostgreSQL at each scrape (workers/telemetry.ts):
 * one statement of small counts. Imports run in the CLI's process, which is gone before any
 * scrape, so their rows are counted from the summaries they leave in usage_imports.
 */
import type { Pool } from 'pg';

export interface OperationalCounts {
  pendingLimitRequests: number;
  /** Abuse cases waiting on support (`open`) or with the account suspended (`suspended`). */
  abuseCases: { open: number; suspended: number };
  /** Rows of every finished import, by outcome (ImportSummary's counts). */
  importRows: { read: number; counted: number; notCounted: number; duplicate: number; unmatched: number; late: number; rejected: number };
  importsFinished: number;
}

export async function operationalCounts(db: Pool): Promise<OperationalCounts> {
  const { rows } = await db.query(
    `WITH imports AS (SELECT summary FROM usage_imports WHERE summary IS NOT NULL)
     SELECT (SELECT count(*) FROM limit_requests WHERE status = 'pending')::int AS "pendingLimitRequests",
            (SELECT count(*) FROM abuse_cases WHERE state = 'open')::int AS "abuseOpen",
            (SELECT count(*) FROM abuse_cases WHERE state = 'suspended')::int AS "abuseSuspended",
            (SELECT count(*) FROM imports)::int AS "importsFinished",
            (SELECT coalesce(sum((summary->>'rowsRead')::bigint), 0) FROM imports)::float8 AS read,
            (SELECT coalesce(sum((summary->>'counted')::bigint), 0) FROM imports)::float8 AS counted,
            (SELECT coalesce(sum(n.value::bigint), 0) FROM imports, jsonb_each_text(coalesce(summary->'notCounted', '{}')) n)::float8 AS "notCounted",
            (SELECT coalesce(sum((summary->>'duplicates')::bigint), 0) FROM imports)::float8 AS duplicate,
            (SELECT coalesce(sum((summary->>'unmatched')::bigint), 0) FROM imports)::float8 AS unmatched,
            (SELECT coalesce(sum((summary->>'late')::bigint), 0) FROM imports)::float8 AS late,
            (SELECT coalesce(sum((summary->>'rejected')::bigint), 0) FROM imports)::float8 AS rejected`,
  );
  const r = rows[0];
  return {
    pendingLimitRequests: r.pendingLimitRequests,
    abuseCases: { open: r.abuseOpen, suspended: r.abuseSuspended },
    importRows: { read: r.read, counted: r.counted, notCounted: r.notCounted, duplicate: r.duplicate, unmatched: r.unmatched, late: r.late, rejected: r.rejected },
    importsFinished: r.importsFinished,
  };
}
