/**
 * A termination as support's decision records it (db/abuse.ts: a case, its decision, the hold and
 * the subscriber's status), and the entity told, as the abuse case's workflow does.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { recordFindings, settleAbuseDecision } from '../../db/abuse';
import { dayOf } from '../../billing/abuse';
import { subscriberWorkflowId, terminateSignal } from '../../workflows/messages';

/** Records the termination of `subscriberId` decided at `atMs`; returns the case id. */
export async function givenTerminationDecided(pool: Pool, subscriberId: string, atMs: number): Promise<string> {
  await pool.query(`INSERT INTO support_staff (id, email) VALUES ('reviewer', 'reviewer@support.test') ON CONFLICT DO NOTHING`);
  const day = dayOf(atMs, 'UTC');
  const caseId = await recordFindings(pool, subscriberId, [
    {
      subscriberId,
      detector: 'simultaneous-calls',
      day,
      key: `${subscriberId}:simultaneous-calls:${day}`,
      summary: 'Five calls at once',
      evidence: { measured: { simultaneousCalls: 5 }, callCount: 5 } as never,
    },
  ]);
  if (!caseId) throw new Error(`no case opened for ${subscriberId}`);
  await settleAbuseDecision(pool, {
    caseId,
    atMs,
    untilMs: null,
    localDay: day,
    email: null,
    decision: { action: 'terminate', reviewer: 'reviewer', reason: 'Resold as a call centre line', untilDay: null },
  });
  return caseId;
}

/** Tells the subscriber's entity (started at `period` when not running) of the termination. */
export async function tellEntityTerminated(client: Client, taskQueue: string, subscriberId: string, period: string, caseId: string): Promise<void> {
  await client.workflow.signalWithStart('subscriberWorkflow', {
    workflowId: subscriberWorkflowId(subscriberId),
    taskQueue,
    args: [{ subscriberId, period }],
    signal: terminateSignal,
    signalArgs: [{ caseId, reason: 'Resold as a call centre line' }],
  });
}
