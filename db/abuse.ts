/** Abuse cases, their findings and trail, the holds a decision puts on an account, and muted detectors. */
import type { Pool, PoolClient } from 'pg';
import type { AbuseCall, AbuseCaseState, AbuseDecision, AbuseDetector, AbuseDismissal, Finding } from '../billing/abuse';
import { nextCaseState } from '../billing/abuse/decisions';
import { enqueueEmail, type OutboxEmail } from './outbox';
import { inTransaction } from './pool';
import { insertTrailStep } from './trail';

export type AbuseEventKind = 'opened' | 'finding' | 'reminded' | 'suspended' | 'resumed' | 'terminated' | 'dismissed' | 'invalid-decision';

export interface AbuseCaseRecord {
  id: string;
  subscriberId: string;
  state: AbuseCaseState;
  action: string | null;
  reviewer: string | null;
  reason: string | null;
  untilAt: string | null;
  decidedAt: string | null;
  createdAt: string;
  /** The detectors of its findings, and how many findings it has. */
  detectors: AbuseDetector[];
  findings: number;
  ageSeconds: number;
}

export interface AbuseFindingRecord {
  key: string;
  caseId: string;
  detector: AbuseDetector;
  day: string;
  summary: string;
  evidence: Finding['evidence'];
}

export interface AbuseCaseEvent {
  at: string;
  actor: string;
  kind: AbuseEventKind;
  detail: Record<string, unknown>;
}

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const CASE_COLUMNS = `c.id, c.subscriber_id AS "subscriberId", c.state, c.action, c.reviewer, c.reason,
  ${ISO('c.until_at')} AS "untilAt", ${ISO('c.decided_at')} AS "decidedAt", ${ISO('c.created_at')} AS "createdAt",
  coalesce((SELECT array_agg(DISTINCT f.detector) FROM abuse_findings f WHERE f.case_id = c.id), '{}') AS detectors,
  (SELECT count(*)::int FROM abuse_findings f WHERE f.case_id = c.id) AS findings,
  extract(epoch FROM now() - c.created_at)::int AS "ageSeconds"`;

export async function getAbuseCase(db: Pool | PoolClient, id: string): Promise<AbuseCaseRecord | undefined> {
  const { rows } = await db.query(`SELECT ${CASE_COLUMNS} FROM abuse_cases c WHERE c.id = $1`, [id]);
  return rows[0];
}

export async function listAbuseCases(pool: Pool, filter: { state?: AbuseCaseState; subscriberId?: string } = {}): Promise<AbuseCaseRecord[]> {
  const { rows } = await pool.query(
    `SELECT ${CASE_COLUMNS} FROM abuse_cases c
      WHERE ($1::text IS NULL OR c.state = $1) AND ($2::text IS NULL OR c.subscriber_id = $2)
      ORDER BY c.created_at, c.id`,
    [filter.state ?? null, filter.subscriberId ?? null],
  );
  return rows;
}

export async function abuseCaseFindings(db: Pool | PoolClient, caseId: string): Promise<AbuseFindingRecord[]> {
  const { rows } = await db.query(
    `SELECT key, case_id AS "caseId", detector, to_char(day, 'YYYY-MM-DD') AS day, summary, evidence
       FROM abuse_findings WHERE case_id = $1 ORDER BY day, detector`,
    [caseId],
  );
  return rows;
}

export async function abuseCaseEvents(pool: Pool, caseId: string): Promise<AbuseCaseEvent[]> {
  const { rows } = await pool.query(`SELECT ${ISO('at')} AS at, actor, kind, detail FROM abuse_case_events WHERE case_id = $1 ORDER BY at, seq`, [caseId]);
  return rows;
}

export interface NewAbuseEvent {
  /** Unique per step, so a retried activity records it once. */
  key: string;
  caseId: string;
  /** When it happened by the workflow's clock; null: now. */
  atMs: number | null;
  actor: string;
  kind: AbuseEventKind;
  detail: Record<string, unknown>;
}

export async function insertAbuseEvent(db: Pool | PoolClient, event: NewAbuseEvent): Promise<void> {
  await insertTrailStep(db, 'abuse_case_events', event.caseId, event);
}

// The scan

export interface ScannedSubscriber {
  id: string;
  timezone: string;
  serviceStart: string;
  monthlyFeeCents: number;
}

/** Subscribers in service on `day` and not terminated, after `afterId`, in id order. */
export async function subscribersToScan(db: Pool, day: string, afterId: string | undefined, limit: number): Promise<ScannedSubscriber[]> {
  const { rows } = await db.query(
    `SELECT id, timezone, service_start AS "serviceStart", monthly_fee_cents AS "monthlyFeeCents" FROM subscribers
      WHERE status <> 'terminated' AND service_start <= $1::date AND ($2::text IS NULL OR id > $2)
      ORDER BY id LIMIT $3`,
    [day, afterId ?? null, limit],
  );
  return rows;
}

/** The subscriber's counted calls overlapping [fromMs, toMs), in the months listed (partition pruning). */
export async function countedCallsBetween(db: Pool, subscriberId: string, periods: string[], fromMs: number, toMs: number): Promise<AbuseCall[]> {
  const { rows } = await db.query(
    `SELECT record_key::text AS "callId", (extract(epoch FROM started_at) * 1000)::bigint AS "startMs", billable_seconds AS "answeredSeconds", counted
       FROM calls
      WHERE subscriber_id = $1 AND period = ANY($2::text[]) AND counted
        AND started_at < to_timestamp($4::double precision / 1000)
        AND started_at + billable_seconds * interval '1 second' > to_timestamp($3::double precision / 1000)`,
    [subscriberId, periods, fromMs, toMs],
  );
  return rows;
}

/** The detectors support muted for the subscriber, each with the day of the dismissal. */
export async function abuseDismissals(db: Pool, subscriberId: string): Promise<AbuseDismissal[]> {
  const { rows } = await db.query(`SELECT detector, to_char(day, 'YYYY-MM-DD') AS day FROM abuse_mutes WHERE subscriber_id = $1`, [subscriberId]);
  return rows;
}

/**
 * Records the subscriber's findings once each (by key) in their current case, opening one when
 * they have none open or suspended. Returns the case id when a finding was new.
 */
export async function recordFindings(pool: Pool, subscriberId: string, findings: readonly Finding[]): Promise<string | undefined> {
  if (findings.length === 0) return undefined;
  return inTransaction(pool, async (client) => {
    const { rows: known } = await client.query('SELECT key FROM abuse_findings WHERE key = ANY($1::text[])', [findings.map((f) => f.key)]);
    const seen = new Set(known.map((r) => r.key as string));
    const fresh = findings.filter((f) => !seen.has(f.key));
    if (fresh.length === 0) return undefined;
    // One current case per subscriber (a partial unique index): join it, or open one.
    const opened = await client.query(
      `INSERT INTO abuse_cases (id, subscriber_id) VALUES ('AC-' || nextval('abuse_case_numbers'), $1)
       ON CONFLICT (subscriber_id) WHERE state IN ('open', 'suspended') DO NOTHING RETURNING id`,
      [subscriberId],
    );
    const caseId: string =
      opened.rows[0]?.id ?? (await client.query(`SELECT id FROM abuse_cases WHERE subscriber_id = $1 AND state IN ('open', 'suspended')`, [subscriberId])).rows[0].id;
    if (opened.rowCount === 1) await insertAbuseEvent(client, { key: `${caseId}:opened`, caseId, atMs: null, actor: 'system', kind: 'opened', detail: {} });
    for (const f of fresh) {
      await client.query(
        `INSERT INTO abuse_findings (key, case_id, subscriber_id, detector, day, summary, evidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
        [f.key, caseId, subscriberId, f.detector, f.day, f.summary, JSON.stringify(f.evidence)],
      );
      await insertAbuseEvent(client, { key: `${caseId}:finding:${f.key}`, caseId, atMs: null, actor: 'system', kind: 'finding', detail: { key: f.key, summary: f.summary } });
    }
    return caseId;
  });
}

export interface UnannouncedCase {
  caseId: string;
  subscriberId: string;
  /** False when the case was decided meanwhile: its workflow is over and must not be started again. */
  current: boolean;
  findings: { key: string; detector: AbuseDetector; day: string; summary: string }[];
}

/** Findings of these subscribers whose case workflow has not been told of them yet, by case. */
export async function unannouncedFindings(db: Pool, subscriberIds: string[]): Promise<UnannouncedCase[]> {
  const { rows } = await db.query(
    `SELECT f.case_id AS "caseId", f.subscriber_id AS "subscriberId", c.state IN ('open', 'suspended') AS current,
            f.key, f.detector, to_char(f.day, 'YYYY-MM-DD') AS day, f.summary
       FROM abuse_findings f JOIN abuse_cases c ON c.id = f.case_id
      WHERE f.subscriber_id = ANY($1::text[]) AND f.announced_at IS NULL ORDER BY f.case_id, f.day, f.detector`,
    [subscriberIds],
  );
  const byCase = new Map<string, UnannouncedCase>();
  for (const r of rows) {
    const entry: UnannouncedCase = byCase.get(r.caseId) ?? { caseId: r.caseId, subscriberId: r.subscriberId, current: r.current, findings: [] };
    entry.findings.push({ key: r.key, detector: r.detector, day: r.day, summary: r.summary });
    byCase.set(r.caseId, entry);
  }
  return [...byCase.values()];
}

export async function markAnnounced(db: Pool, keys: string[]): Promise<void> {
  await db.query('UPDATE abuse_findings SET announced_at = now() WHERE key = ANY($1::text[]) AND announced_at IS NULL', [keys]);
}

// Decisions and their effects

/**
 * Carries out support's decision in PostgreSQL, once (a retry finds the case moved on and changes
 * nothing): the case's state, the hold on the account and the subscriber's status, or the muted
 * detectors; the trail step and the subscriber's email.
 */
export async function settleAbuseDecision(
  pool: Pool,
  change: { caseId: string; atMs: number; decision: AbuseDecision; untilMs: number | null; localDay: string; email: OutboxEmail | null },
): Promise<void> {
  const { caseId, atMs, decision: d } = change;
  await inTransaction(pool, async (client) => {
    const current = await client.query(`SELECT subscriber_id, state FROM abuse_cases WHERE id = $1 FOR UPDATE`, [caseId]);
    const row = current.rows[0] as { subscriber_id: string; state: AbuseCaseState } | undefined;
    if (!row) throw new Error(`abuse case ${caseId} does not exist`);
    const from = row.state;
    // The core's state machine decides; a retry finds the case moved on and is refused: already done.
    const step = nextCaseState(from, d.action);
    if ('refused' in step) return;
    const to = step.state;
    const at = 'to_timestamp($2::double precision / 1000)';
    await client.query(
      `UPDATE abuse_cases SET state = $3, action = $4, reviewer = $5, reason = $6, until_at = to_timestamp($7::double precision / 1000),
              decided_at = ${at}, closed_at = CASE WHEN $8 THEN ${at} ELSE NULL END
        WHERE id = $1`,
      [caseId, atMs, to, d.action, d.reviewer, d.reason, change.untilMs, step.closed],
    );
    if (step.hold) {
      await client.query(
        `INSERT INTO account_holds (case_id, subscriber_id, kind, starts_at, until_at, reason)
         VALUES ($1, $3, $4, ${at}, to_timestamp($5::double precision / 1000), $6)
         ON CONFLICT (case_id) DO UPDATE SET kind = EXCLUDED.kind, until_at = EXCLUDED.until_at, reason = EXCLUDED.reason`, // a suspension escalated keeps its start
        [caseId, atMs, row.subscriber_id, step.hold, change.untilMs, d.reason],
      );
      await client.query(`UPDATE subscribers SET status = $2 WHERE id = $1 AND status <> 'terminated'`, [row.subscriber_id, step.hold]);
    }
    if (step.mutesDetectors) {
      await client.query(
        `INSERT INTO abuse_mutes (case_id, subscriber_id, detector, day)
         SELECT $1, subscriber_id, detector, max(day) FROM abuse_findings WHERE case_id = $1 GROUP BY subscriber_id, detector
          UNION SELECT DISTINCT $1, subscriber_id, detector, $2::date FROM abuse_findings WHERE case_id = $1
         ON CONFLICT DO NOTHING`,
        [caseId, change.localDay],
      );
    }
    if (step.endsSuspension) {
      // Lifted: the suspension ends now.
      await client.query(`UPDATE account_holds SET ended_at = ${at} WHERE case_id = $1 AND ended_at IS NULL`, [caseId, atMs]);
      await reactivateIfFree(client, row.subscriber_id);
    }
    await insertAbuseEvent(client, {
      key: `${caseId}:${to}`,
      caseId,
      atMs,
      actor: d.reviewer,
      kind: to,
      detail: { reason: d.reason, ...(d.untilDay ? { until: d.untilDay } : {}), ...(from === 'suspended' ? { after: 'suspended' } : {}) },
    });
    if (change.email) await enqueueEmail(client, change.email);
  });
}

/** A suspended subscriber with no other hold in force is active again. */
async function reactivateIfFree(client: PoolClient, subscriberId: string): Promise<void> {
  await client.query(
    `UPDATE subscribers SET status = 'active' WHERE id = $1 AND status = 'suspended'
        AND NOT EXISTS (SELECT 1 FROM account_holds WHERE subscriber_id = $1 AND ended_at IS NULL)`,
    [subscriberId],
  );
}

/** A timed suspension is over: the hold ends, the case is `resumed`, the subscriber active again; once. */
export async function endSuspension(pool: Pool, change: { caseId: string; atMs: number; email: OutboxEmail }): Promise<void> {
  await inTransaction(pool, async (client) => {
    const current = await client.query(`SELECT subscriber_id, state FROM abuse_cases WHERE id = $1 FOR UPDATE`, [change.caseId]);
    const row = current.rows[0] as { subscriber_id: string; state: AbuseCaseState } | undefined;
    if (!row) return;
    // Once: a retry finds the case resumed, and the state machine refuses.
    const step = nextCaseState(row.state, 'suspension-ended');
    if ('refused' in step) return;
    await client.query(`UPDATE abuse_cases SET state = $3, closed_at = CASE WHEN $4 THEN to_timestamp($2::double precision / 1000) ELSE closed_at END WHERE id = $1`, [
      change.caseId,
      change.atMs,
      step.state,
      step.closed,
    ]);
    if (step.endsSuspension) {
      await client.query(`UPDATE account_holds SET ended_at = to_timestamp($2::double precision / 1000) WHERE case_id = $1 AND ended_at IS NULL`, [change.caseId, change.atMs]);
      await reactivateIfFree(client, row.subscriber_id);
    }
    await insertAbuseEvent(client, { key: `${change.caseId}:resumed`, caseId: change.caseId, atMs: change.atMs, actor: 'system', kind: 'resumed', detail: {} });
    await enqueueEmail(client, change.email);
  });
}

export interface SuspendedAccount {
  subscriberId: string;
  status: 'suspended' | 'terminated';
  number: string | null;
  accountCode: string | null;
  since: string;
  until: string | null;
  caseId: string;
}

/** The view `suspended_accounts`: what a switch consults. */
export async function suspendedAccounts(pool: Pool): Promise<SuspendedAccount[]> {
  const { rows } = await pool.query(
    `SELECT subscriber_id AS "subscriberId", status, number, account_code AS "accountCode", ${ISO('since')} AS since, ${ISO('until')} AS until, case_id AS "caseId"
       FROM suspended_accounts ORDER BY subscriber_id, number`,
  );
  return rows;
}

/** How many of the subscriber's calls began while a hold was in force (view `calls_with_flags`). */
export async function flaggedCallCount(pool: Pool, subscriberId: string): Promise<number> {
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM calls_with_flags WHERE subscriber_id = $1 AND flagged_suspended', [subscriberId]);
  return rows[0].n;
}

/** The hold an abuse case's decision put on an account, if any. */
export async function accountHold(db: Pool, caseId: string): Promise<{ subscriberId: string; kind: 'suspended' | 'terminated'; startsAtMs: number; ended: boolean } | undefined> {
  const { rows } = await db.query(
    `SELECT subscriber_id AS "subscriberId", kind, (extract(epoch FROM starts_at) * 1000)::bigint AS "startsAtMs", ended_at IS NOT NULL AS ended
       FROM account_holds WHERE case_id = $1`,
    [caseId],
  );
  return rows[0] ? { ...rows[0], startsAtMs: Number(rows[0].startsAtMs) } : undefined;
}
