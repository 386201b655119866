/** Who is told what about a policy revision (table policy_emails), beside the outbox that sends it. */
import type { Pool, PoolClient } from 'pg';
import { enqueueEmail } from './outbox';
import type { EmailContent } from '../billing/emails';
import type { PolicyEmailProgress, SendCounts } from '../billing/policy-revision';

export type { PolicyEmailProgress };

export type PolicyEmailKind = 'notice' | 'reminder' | 'cancellation' | 'hold-alert';

/** One email per version, kind and subscriber (or per hold reason for billing operations). */
export const policyEmailKey = (version: number, kind: PolicyEmailKind, recipient: string): string => `policy:${version}:${kind}:${recipient}`;

export interface Recipient {
  id: string;
  name: string | null;
  email: string;
}

/**
 * A page of who should get `kind`, by subscriber id: a notice goes to every subscriber not
 * terminated (a suspended one is still billed: DESIGN, "policy revision"), a reminder to those of
 * them who have a notice, a cancellation to everyone whose notice was sent.
 */
export async function recipientsPage(db: Pool, p: { version: number; kind: 'notice' | 'reminder' | 'cancellation'; afterId: string | null; limit: number }): Promise<Recipient[]> {
  const filter = {
    notice: `s.status <> 'terminated' AND $1::int > 0`,
    reminder: `s.status <> 'terminated' AND EXISTS (SELECT 1 FROM policy_emails pe WHERE pe.version = $1 AND pe.kind = 'notice' AND pe.subscriber_id = s.id)`,
    cancellation: `EXISTS (SELECT 1 FROM policy_emails pe JOIN email_outbox o ON o.idempotency_key = pe.email_key
                    WHERE pe.version = $1 AND pe.kind = 'notice' AND pe.subscriber_id = s.id AND o.status = 'sent')`,
  }[p.kind];
  const { rows } = await db.query(`SELECT s.id, s.name, s.email FROM subscribers s WHERE ${filter} AND ($2::text IS NULL OR s.id > $2) ORDER BY s.id LIMIT $3`, [
    p.version,
    p.afterId,
    p.limit,
  ]);
  return rows as Recipient[];
}

/** Queues one email of a revision in the outbox and records it, once (a retry changes nothing). */
export async function queuePolicyEmail(
  db: Pool | PoolClient,
  p: {
    version: number;
    kind: PolicyEmailKind;
    recipient: string;
    subscriberId: string | null;
    to: string;
    atPublication: boolean;
    content: EmailContent;
  },
): Promise<string> {
  const key = policyEmailKey(p.version, p.kind, p.recipient);
  await enqueueEmail(db, { key, purpose: `policy-${p.kind}`, subscriberId: p.subscriberId, to: p.to, ...p.content });
  await db.query(`INSERT INTO policy_emails (email_key, version, kind, subscriber_id, at_publication) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
    key,
    p.version,
    p.kind,
    p.subscriberId,
    p.atPublication,
  ]);
  return key;
}

/**
 * Up to `limit` emails of the revision still to send, those tried least first (so one that keeps
 * failing does not starve the rest); a reminder only once its subscriber's notice is sent.
 */
export async function unsentPolicyEmails(db: Pool, version: number, limit: number): Promise<{ key: string; kind: PolicyEmailKind; atPublication: boolean }[]> {
  const { rows } = await db.query(
    `SELECT pe.email_key AS key, pe.kind, pe.at_publication AS "atPublication"
       FROM policy_emails pe JOIN email_outbox o ON o.idempotency_key = pe.email_key
      WHERE pe.version = $1 AND o.status = 'pending'
        AND (pe.kind <> 'reminder' OR EXISTS (
              SELECT 1 FROM policy_emails n JOIN email_outbox no ON no.idempotency_key = n.email_key
               WHERE n.version = pe.version AND n.kind = 'notice' AND n.subscriber_id = pe.subscriber_id AND no.status = 'sent'))
      ORDER BY o.attempts, pe.kind = 'reminder', pe.email_key
      LIMIT $2`,
    [version, limit],
  );
  return rows;
}

export async function policyEmailProgress(db: Pool, version: number): Promise<PolicyEmailProgress> {
  const { rows } = await db.query(
    `SELECT pe.kind, pe.at_publication,
            count(*) FILTER (WHERE o.status = 'sent')::int AS sent,
            count(*) FILTER (WHERE o.status = 'pending' AND o.last_error IS NULL)::int AS pending,
            count(*) FILTER (WHERE o.status = 'failed' OR (o.status = 'pending' AND o.last_error IS NOT NULL))::int AS failed
       FROM policy_emails pe JOIN email_outbox o ON o.idempotency_key = pe.email_key
      WHERE pe.version = $1
      GROUP BY pe.kind, pe.at_publication`,
    [version],
  );
  const zero = (): SendCounts => ({ sent: 0, pending: 0, failed: 0 });
  const progress: PolicyEmailProgress = { notice: zero(), reminder: zero(), cancellation: zero(), alert: zero(), unsentAtPublication: 0, unsentJoiners: 0 };
  for (const r of rows) {
    const counts = progress[r.kind === 'hold-alert' ? 'alert' : (r.kind as 'notice' | 'reminder' | 'cancellation')];
    counts.sent += r.sent;
    counts.pending += r.pending;
    counts.failed += r.failed;
    if (r.kind === 'notice') {
      if (r.at_publication) progress.unsentAtPublication += r.pending + r.failed;
      else progress.unsentJoiners += r.pending + r.failed;
    }
  }
  return progress;
}

/**
 * Emails of a revision not sent yet that must never be: a cancelled revision's notices and
 * reminders, a reminder of a date already past. Waits for one being sent at that moment (its
 * attempt holds it under a lease, db/outbox.ts): sent, it stays sent; failed, it is withdrawn. An
 * attempt abandoned without an outcome is withdrawn and counted as of unknown outcome.
 */
export async function withdrawUnsentPolicyEmails(db: Pool | PoolClient, version: number, kinds: PolicyEmailKind[]): Promise<number> {
  const ofRevision = `idempotency_key IN (SELECT email_key FROM policy_emails WHERE version = $1 AND kind = ANY($2))`;
  let withdrawn = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `UPDATE email_outbox
          SET status = 'withdrawn', unknown_outcomes = unknown_outcomes + CASE WHEN attempt_token IS NULL THEN 0 ELSE 1 END,
              attempt_token = NULL, attempt_started_at = NULL, lease_until = NULL
        WHERE status = 'pending' AND (attempt_token IS NULL OR lease_until <= clock_timestamp()) AND ${ofRevision}`,
      [version, kinds],
    );
    withdrawn += rowCount ?? 0;
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM email_outbox WHERE status = 'pending' AND ${ofRevision}`, [version, kinds]);
    if (rows[0].n === 0) return withdrawn;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
