/**
 * Waiting on durable facts. Tests never assert that something did NOT happen after a fixed sleep:
 * they first wait for a fact that settles it (a workflow with nothing in flight, outbox rows
 * marked sent), and assert the absence after that.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';

/** Polls `read` until `done` holds, for effects that land after a workflow moves on. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const EventType = temporal.api.enums.v1.EventType;
/** What a completed workflow task may leave behind that needs no worker: it waits on a timer or a signal. */
const RESTING = new Set<number>([
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
]);
const CLOSED = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/**
 * Whether the latest run of a workflow is at rest, read from its history: it has closed, or its
 * last workflow task completed and left only timers and markers behind (no activity, child,
 * signal to send or workflow task pending).
 */
export async function isAtRest(client: Client, workflowId: string): Promise<boolean> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const last = events[events.length - 1];
  if (last && CLOSED.has(Number(last.eventType))) return true;
  let i = events.length - 1;
  while (i >= 0 && Number(events[i]!.eventType) !== EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) i -= 1;
  return i >= 0 && events.slice(i + 1).every((e) => RESTING.has(Number(e.eventType)));
}

/**
 * Waits until every workflow named is at rest (see isAtRest). On the time-skipping server, where
 * time moves only when a test sleeps or awaits a result, nothing more happens from then on until
 * a timer is due or a signal arrives: what the workflows have not done by now, they do not do.
 */
export async function untilAtRest(client: Client, workflowIds: string[], timeoutMs = 30_000): Promise<void> {
  await until(
    async () => {
      const busy: string[] = [];
      for (const id of workflowIds) if (!(await isAtRest(client, id))) busy.push(id);
      return busy;
    },
    (busy) => busy.length === 0,
    timeoutMs,
  );
}

export interface OutboxRow {
  key: string;
  purpose: string;
  to: string;
  subject: string;
  status: string;
}

/** The outbox rows whose key matches a LIKE pattern, in key order. */
export async function outboxRows(pool: Pool, keyLike: string): Promise<OutboxRow[]> {
  const { rows } = await pool.query(
    `SELECT idempotency_key AS key, purpose, to_address AS "to", subject, status FROM email_outbox WHERE idempotency_key LIKE $1 ORDER BY idempotency_key`,
    [keyLike],
  );
  return rows as OutboxRow[];
}

/**
 * Waits until the outbox holds `count` rows matching `keyLike`, every one of them marked sent:
 * the SMTP server has accepted each of them (a row is marked sent only after it has), so what it
 * received from them is all it will receive.
 */
export async function untilOutboxSent(pool: Pool, keyLike: string, count: number, timeoutMs = 30_000): Promise<OutboxRow[]> {
  return until(
    () => outboxRows(pool, keyLike),
    (rows) => rows.length === count && rows.every((r) => r.status === 'sent'),
    timeoutMs,
  );
}
