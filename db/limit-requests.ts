/** Limit-increase requests, their trail, and the approved limits the rating reads. */
import type { Pool, PoolClient } from 'pg';
import type { LimitDecision, LimitGrant, LimitRequestState } from '../billing/limits';
import { enqueueEmail, type OutboxEmail } from './outbox';
import { inTransaction } from './pool';
import { insertTrailStep } from './trail';

export type LimitEventKind = 'requested' | 'reminded' | 'approved' | 'rejected' | 'expired' | 'applied' | 'ended' | 'invalid-decision';

export interface LimitRequestEvent {
  at: string;
  actor: string;
  kind: LimitEventKind;
  detail: Record<string, unknown>;
}

export interface LimitRequestRecord {
  id: string;
  subscriberId: string;
  requestedMinutes: number;
  reason: string;
  status: LimitRequestState;
  approvedMinutes: number | null;
  untilPeriod: string | null;
  reviewer: string | null;
  decisionNote: string | null;
  decidedAt: string | null;
  createdAt: string;
  /** Seconds since the request was made, by the database's clock. */
  ageSeconds: number;
}

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const COLUMNS = `id, subscriber_id AS "subscriberId", requested_minutes AS "requestedMinutes", reason, status,
  approved_minutes AS "approvedMinutes", until_period AS "untilPeriod", reviewer, decision_note AS "decisionNote",
  ${ISO('decided_at')} AS "decidedAt", ${ISO('created_at')} AS "createdAt",
  extract(epoch FROM now() - created_at)::int AS "ageSeconds"`;

export class PendingRequestError extends Error {
  constructor(readonly pending: LimitRequestRecord) {
    super(
      `subscriber "${pending.subscriberId}" already has a pending limit request, ${pending.id} (${pending.requestedMinutes} minutes, made ${pending.createdAt}); it must be decided or expire first`,
    );
  }
}

export async function pendingRequestFor(db: Pool | PoolClient, subscriberId: string): Promise<LimitRequestRecord | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM limit_requests WHERE subscriber_id = $1 AND status = 'pending'`, [subscriberId]);
  return rows[0];
}

/** Records a new request and its first step; refuses a second pending one for the subscriber. */
export async function createLimitRequest(pool: Pool, request: NewLimitRequest): Promise<LimitRequestRecord> {
  try {
    return await inTransaction(pool, (client) => insertLimitRequest(client, request));
  } catch (error) {
    throw await asPendingRequestError(pool, request.subscriberId, error);
  }
}

export interface NewLimitRequest {
  subscriberId: string;
  minutes: number;
  reason: string;
  actor: string;
}

/** The same in the caller's transaction: a pending request of the subscriber's is a PendingRequestError. */
export async function insertLimitRequest(client: PoolClient, request: NewLimitRequest): Promise<LimitRequestRecord> {
  const pending = await pendingRequestFor(client, request.subscriberId);
  if (pending) throw new PendingRequestError(pending);
  const { rows } = await client.query(
    `INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason)
     VALUES ('LR-' || nextval('limit_request_numbers'), $1, $2, $3) RETURNING ${COLUMNS}`,
    [request.subscriberId, request.minutes, request.reason],
  );
  const created = rows[0] as LimitRequestRecord;
  await insertEvent(client, {
    key: `${created.id}:requested`,
    requestId: created.id,
    atMs: null,
    actor: request.actor,
    kind: 'requested',
    detail: { minutes: request.minutes, reason: request.reason },
  });
  return created;
}

/** A unique violation of the one-pending-request rule (a request made at the same moment), as a PendingRequestError. */
export async function asPendingRequestError(pool: Pool, subscriberId: string, error: unknown): Promise<unknown> {
  if ((error as { code?: string }).code !== '23505') return error;
  const pending = await pendingRequestFor(pool, subscriberId);
  return pending ? new PendingRequestError(pending) : error;
}

/** How many requests the subscriber has made, whatever became of them. */
export async function limitRequestCount(db: Pool | PoolClient, subscriberId: string): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM limit_requests WHERE subscriber_id = $1', [subscriberId]);
  return rows[0].n as number;
}

export async function getLimitRequest(db: Pool | PoolClient, id: string): Promise<LimitRequestRecord | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM limit_requests WHERE id = $1`, [id]);
  return rows[0];
}

export async function limitRequestEvents(pool: Pool, id: string): Promise<LimitRequestEvent[]> {
  const { rows } = await pool.query(`SELECT ${ISO('at')} AS at, actor, kind, detail FROM limit_request_events WHERE request_id = $1 ORDER BY at, seq`, [id]);
  return rows;
}

export async function listLimitRequests(pool: Pool, filter: { status?: LimitRequestState; subscriberId?: string } = {}): Promise<LimitRequestRecord[]> {
  const { rows } = await pool.query(
    `SELECT ${COLUMNS} FROM limit_requests
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR subscriber_id = $2)
      ORDER BY created_at, id`,
    [filter.status ?? null, filter.subscriberId ?? null],
  );
  return rows;
}

export interface NewLimitEvent {
  /** Unique per step, so a retried activity records it once. */
  key: string;
  requestId: string;
  /** When it happened by the workflow's clock; null: now. */
  atMs: number | null;
  actor: string;
  kind: LimitEventKind;
  detail: Record<string, unknown>;
}

export async function insertEvent(db: Pool | PoolClient, event: NewLimitEvent): Promise<void> {
  await insertTrailStep(db, 'limit_request_events', event.requestId, event);
}

/**
 * Moves a pending request to its outcome with its trail step and email, in one transaction, once:
 * a retry finds it done and changes nothing.
 */
export async function settleLimitRequest(
  pool: Pool,
  change: { requestId: string; atMs: number; outcome: { kind: 'decision'; decision: LimitDecision } | { kind: 'expired' }; email: OutboxEmail },
): Promise<void> {
  return inTransaction(pool, async (client) => {
    const { requestId, atMs, outcome } = change;
    if (outcome.kind === 'expired') {
      await client.query(`UPDATE limit_requests SET status = 'expired' WHERE id = $1 AND status = 'pending'`, [requestId]);
      await insertEvent(client, { key: `${requestId}:expired`, requestId, atMs, actor: 'system', kind: 'expired', detail: {} });
    } else {
      const d = outcome.decision;
      await client.query(
        `UPDATE limit_requests SET status = $2, reviewer = $3, approved_minutes = $4, until_period = $5, decision_note = $6,
                decided_at = to_timestamp($7::double precision / 1000)
          WHERE id = $1 AND status = 'pending'`,
        [
          requestId,
          d.kind === 'approve' ? 'approved' : 'rejected',
          d.reviewer,
          d.kind === 'approve' ? d.minutes : null,
          d.kind === 'approve' ? d.untilPeriod : null,
          d.kind === 'approve' ? d.note : d.reason,
          atMs,
        ],
      );
      await insertEvent(client, {
        key: `${requestId}:decided`,
        requestId,
        atMs,
        actor: d.reviewer,
        kind: d.kind === 'approve' ? 'approved' : 'rejected',
        detail: d.kind === 'approve' ? { minutes: d.minutes, until: d.untilPeriod, note: d.note } : { reason: d.reason },
      });
    }
    await enqueueEmail(client, change.email);
  });
}

export async function grantLimit(db: Pool | PoolClient, subscriberId: string, grant: LimitGrant): Promise<void> {
  await db.query(
    `INSERT INTO subscriber_limits (request_id, subscriber_id, from_period, until_period, minutes)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO NOTHING`,
    [grant.requestId, subscriberId, grant.fromPeriod, grant.untilPeriod, grant.minutes],
  );
}

/** Every approved limit of a subscriber; billing/limits.ts says which applies to a month. */
export async function limitGrantsFor(db: Pool | PoolClient, subscriberId: string): Promise<LimitGrant[]> {
  return (await limitGrantsOf(db, [subscriberId])).get(subscriberId) ?? [];
}

/** The approved limits of many subscribers in one query (the policy preview), by subscriber, as limitGrantsFor orders them. */
export async function limitGrantsOf(db: Pool | PoolClient, subscriberIds: readonly string[]): Promise<Map<string, LimitGrant[]>> {
  const { rows } = await db.query(
    `SELECT subscriber_id AS "subscriberId", request_id AS "requestId", minutes, from_period AS "fromPeriod", until_period AS "untilPeriod"
       FROM subscriber_limits WHERE subscriber_id = ANY($1::text[]) ORDER BY subscriber_id, from_period, created_at`,
    [subscriberIds],
  );
  const grants = new Map<string, LimitGrant[]>();
  for (const { subscriberId, ...grant } of rows as (LimitGrant & { subscriberId: string })[]) {
    const list = grants.get(subscriberId) ?? [];
    list.push(grant);
    grants.set(subscriberId, list);
  }
  return grants;
}

/** Every approved limit that applies in `period` or later, with its subscriber. */
export async function grantsInForceFrom(db: Pool | PoolClient, period: string): Promise<(LimitGrant & { subscriberId: string })[]> {
  const { rows } = await db.query(
    `SELECT request_id AS "requestId", subscriber_id AS "subscriberId", minutes, from_period AS "fromPeriod", until_period AS "untilPeriod"
       FROM subscriber_limits WHERE until_period IS NULL OR until_period >= $1 ORDER BY subscriber_id, from_period`,
    [period],
  );
  return rows;
}
