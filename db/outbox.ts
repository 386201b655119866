import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { InvoiceDocument } from '../billing/invoice-document';
import { isPermanentRefusal, mailFailedAlertEmail, mailFailedAlertKey, mayHaveBeenAccepted, serverAnswer, type SmtpError } from '../billing/mail-delivery';
import { inTransaction } from './pool';

/**
 * A file an email carries, stored as what renders it, not its bytes: an invoice's PDF is drawn
 * from its document model when the email is sent (activities/mail.ts), the same bytes every time.
 */
export interface OutboxAttachment {
  filename: string;
  invoiceDocument: InvoiceDocument;
}

export interface OutboxEmail {
  key: string;
  purpose: string;
  subscriberId: string | null;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: OutboxAttachment[];
}

export async function enqueueEmail(db: Pool | PoolClient, email: OutboxEmail): Promise<void> {
  await db.query(
    `INSERT INTO email_outbox (idempotency_key, purpose, subscriber_id, to_address, subject, text_body, html_body, attachments)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
    [email.key, email.purpose, email.subscriberId, email.to, email.subject, email.text, email.html, JSON.stringify(email.attachments ?? [])],
  );
}

export interface PendingEmail {
  key: string;
  purpose: string;
  subscriberId: string | null;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: OutboxAttachment[];
}

/**
 * What a delivery did: sent now; sent before (by this or an earlier attempt); withdrawn (never to
 * be sent); failed: the server refused it for good, recorded on the row, billing operations alerted.
 * A transient failure (4xx, connection lost) throws, to be retried.
 */
export type DeliveryOutcome = 'sent' | 'already-sent' | 'withdrawn' | 'failed';

export interface DeliveryOptions {
  /** Where the alert about a permanently refused email goes (billing operations); none when unset. */
  alertTo?: string;
  /**
   * How long an attempt holds the email before another may take it over as abandoned. The attempt
   * renews it while it runs, so only a dead process (or one cut from PostgreSQL) lets it lapse.
   */
  leaseMs?: number;
  /**
   * After the server accepted the email, how long to keep trying to record it as sent while
   * PostgreSQL is unreachable (a restart), before giving up and leaving the attempt open.
   */
  recordSentWithinMs?: number;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_RECORD_SENT_WITHIN_MS = 60_000;

/** Another attempt holds the email: retry later (Temporal does), it is sent at most once at a time. */
export class EmailInFlightError extends Error {
  constructor(key: string, leaseUntil: Date) {
    super(`email ${key} is being sent by another attempt, which holds it until ${leaseUntil.toISOString()}; try again then`);
    this.name = 'EmailInFlight';
  }
}

const EMAIL_COLUMNS = `idempotency_key AS key, purpose, subscriber_id AS "subscriberId", to_address AS "to", subject, text_body AS text, html_body AS html, attachments`;

/**
 * Starts an attempt, committed before any SMTP traffic: takes the email if it is pending and no
 * live attempt holds it. An earlier attempt still open (its lease lapsed: its process died, or lost
 * PostgreSQL, before recording what happened) may have delivered the email: it is counted in
 * unknown_outcomes, and this attempt sends the same message (same Message-ID) again.
 */
async function startAttempt(pool: Pool, key: string, token: string, leaseMs: number): Promise<PendingEmail | undefined> {
  const { rows } = await pool.query(
    `UPDATE email_outbox
        SET attempts = attempts + 1,
            unknown_outcomes = unknown_outcomes + CASE WHEN attempt_token IS NULL THEN 0 ELSE 1 END,
            attempt_token = $2, attempt_started_at = now(), lease_until = now() + $3 * interval '1 millisecond'
      WHERE idempotency_key = $1 AND status = 'pending' AND (attempt_token IS NULL OR lease_until <= now())
      RETURNING ${EMAIL_COLUMNS}`,
    [key, token, leaseMs],
  );
  return rows[0];
}

/** Keeps the attempt's lease while it runs; a renewal PostgreSQL does not answer is tried again next time. */
function holdLease(pool: Pool, key: string, token: string, leaseMs: number): () => void {
  const timer = setInterval(
    () => {
      pool
        .query(`UPDATE email_outbox SET lease_until = now() + $3 * interval '1 millisecond' WHERE idempotency_key = $1 AND attempt_token = $2`, [key, token, leaseMs])
        .catch(() => undefined);
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Records that the server accepted the email, at once: the one statement between the server's
 * "250" and the commit. Whatever other attempt may hold the row, the email was delivered. While
 * PostgreSQL does not answer (a restart) it is tried again for `withinMs`, so that a short loss
 * does not cause a resend; after that the attempt stays open and the next one counts it unknown.
 */
async function recordSent(pool: Pool, key: string, messageId: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 2000)) {
    try {
      await pool.query(
        `UPDATE email_outbox
            SET status = 'sent', sent_at = coalesce(sent_at, now()), message_id = $2, last_error = NULL,
                attempt_token = NULL, attempt_started_at = NULL, lease_until = NULL
          WHERE idempotency_key = $1`,
        [key, messageId],
      );
      return;
    } catch (error) {
      if (Date.now() + pauseMs > deadline) {
        throw new Error(
          `email ${key} was accepted by the mail server (${messageId}) but could not be recorded as sent: ${(error as Error).message}; the next attempt sends it again with the same Message-ID and counts this one as outcome unknown`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** A transient failure: the attempt is closed; one that may have delivered the email counts as outcome unknown. */
async function recordTransientFailure(pool: Pool, key: string, token: string, error: SmtpError): Promise<void> {
  await pool.query(
    `UPDATE email_outbox
        SET last_error = $3, unknown_outcomes = unknown_outcomes + $4,
            attempt_token = NULL, attempt_started_at = NULL, lease_until = NULL
      WHERE idempotency_key = $1 AND attempt_token = $2`,
    [key, token, serverAnswer(error), mayHaveBeenAccepted(error) ? 1 : 0],
  );
}

/** A permanent refusal: the email is failed with the server's answer, and billing operations' alert queued with it. */
async function recordRefusal(pool: Pool, email: PendingEmail, token: string, error: SmtpError, alertTo: string | undefined): Promise<void> {
  const answer = serverAnswer(error);
  await inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE email_outbox
          SET status = 'failed', failed_at = now(), last_error = $3,
              attempt_token = NULL, attempt_started_at = NULL, lease_until = NULL
        WHERE idempotency_key = $1 AND attempt_token = $2`,
      [email.key, token, answer],
    );
    if (rowCount === 1 && alertTo && email.purpose !== 'mail-failed') {
      await enqueueEmail(client, {
        key: mailFailedAlertKey(email.key),
        purpose: 'mail-failed',
        subscriberId: email.subscriberId,
        to: alertTo,
        ...mailFailedAlertEmail({ key: email.key, purpose: email.purpose, subscriberId: email.subscriberId, to: email.to, subject: email.subject, answer }),
      });
    }
  });
}

/**
 * Sends the outbox email with `key` at most once at a time, and never again once it is sent (nor a
 * withdrawn or failed one at all). Each attempt is committed before the SMTP transaction starts and
 * holds the email under a lease instead of a lock: no transaction stays open across the SMTP call,
 * and two workers never send the same email at once. What is not guaranteed, by any outbox: a
 * process that dies (or loses PostgreSQL for longer than `recordSentWithinMs`) between the server's
 * acceptance and the commit leaves the attempt open; the next attempt counts it in
 * unknown_outcomes and sends the same message, same Message-ID, again.
 *
 * `send` resolves with the Message-ID once the server accepted the email. A permanent refusal
 * (billing/mail-delivery.ts) fails the email for good and returns 'failed', after mailing the
 * alert to `alertTo` (once per email, keyed `mail-failed:<key>`); anything else thrown is recorded
 * and thrown again, to be retried.
 */
export async function deliverOnce(pool: Pool, key: string, send: (email: PendingEmail) => Promise<string>, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const token = randomUUID();
  const email = await startAttempt(pool, key, token, leaseMs);
  if (!email) return settledOutcome(pool, key, send, options);
  const releaseLease = holdLease(pool, key, token, leaseMs);
  try {
    let messageId: string;
    try {
      messageId = await send(email);
    } catch (error) {
      if (isPermanentRefusal(error as SmtpError)) {
        await recordRefusal(pool, email, token, error as SmtpError, options.alertTo);
        await deliverAlert(pool, key, send, options);
        return 'failed';
      }
      await recordTransientFailure(pool, key, token, error as SmtpError).catch(() => undefined);
      throw error;
    }
    await recordSent(pool, key, messageId, options.recordSentWithinMs ?? DEFAULT_RECORD_SENT_WITHIN_MS);
    return 'sent';
  } finally {
    releaseLease();
  }
}

/** The outcome of an email no attempt could take: settled already, or held by a live attempt. */
async function settledOutcome(pool: Pool, key: string, send: (email: PendingEmail) => Promise<string>, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const { rows } = await pool.query(`SELECT status, lease_until AS "leaseUntil" FROM email_outbox WHERE idempotency_key = $1`, [key]);
  const row = rows[0] as { status: 'pending' | 'sent' | 'failed' | 'withdrawn'; leaseUntil: Date | null } | undefined;
  if (!row) throw new Error(`no email with key ${key} in the outbox`);
  switch (row.status) {
    case 'sent':
      return 'already-sent';
    case 'withdrawn':
      return 'withdrawn';
    case 'failed':
      // The alert is queued with the failure; an attempt that failed before mailing it mails it now.
      await deliverAlert(pool, key, send, options);
      return 'failed';
    case 'pending':
      throw new EmailInFlightError(key, row.leaseUntil ?? new Date());
  }
}

async function deliverAlert(pool: Pool, key: string, send: (email: PendingEmail) => Promise<string>, options: DeliveryOptions): Promise<void> {
  const alertKey = mailFailedAlertKey(key);
  const { rowCount } = await pool.query(`SELECT 1 FROM email_outbox WHERE idempotency_key = $1`, [alertKey]);
  if (rowCount) await deliverOnce(pool, alertKey, send, { ...options, alertTo: undefined });
}

/** The document model of an invoice's PDF as its email carries it, if its email has one (the invoice as mailed). */
export async function mailedInvoiceDocument(pool: Pool, invoiceId: string): Promise<InvoiceDocument | undefined> {
  const { rows } = await pool.query(`SELECT attachments FROM email_outbox WHERE idempotency_key = $1`, [`invoice:${invoiceId}`]);
  const attachments = (rows[0]?.attachments ?? []) as OutboxAttachment[];
  return attachments.find((a) => a.invoiceDocument)?.invoiceDocument;
}

/** An email's delivery as ops read it: its state, attempts, those of unknown outcome, the server's last answer. */
export interface OutboxEmailState {
  key: string;
  purpose: string;
  to: string;
  status: 'pending' | 'sent' | 'failed' | 'withdrawn';
  attempts: number;
  unknownOutcomes: number;
  lastError: string | null;
  messageId: string | null;
}

/** The subscriber's emails whose delivery needs a look: tried and not sent yet, refused, or sent after an attempt of unknown outcome. */
export async function emailsNeedingAttention(pool: Pool, subscriberId: string): Promise<OutboxEmailState[]> {
  const { rows } = await pool.query(
    `SELECT idempotency_key AS key, purpose, to_address AS "to", status, attempts, unknown_outcomes AS "unknownOutcomes",
            last_error AS "lastError", message_id AS "messageId"
       FROM email_outbox
      WHERE subscriber_id = $1 AND (status = 'failed' OR (status = 'pending' AND attempts > 0) OR unknown_outcomes > 0)
      ORDER BY created_at, idempotency_key`,
    [subscriberId],
  );
  return rows;
}

/** Mail of a month's invoices that needs a look: refused for good, and sent after attempts of unknown outcome. */
export async function invoiceMailTrouble(pool: Pool, period: string): Promise<{ failed: number; unknownOutcomes: number }> {
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE o.status = 'failed')::int AS failed, coalesce(sum(o.unknown_outcomes), 0)::int AS "unknownOutcomes"
       FROM invoices i JOIN email_outbox o ON o.idempotency_key = 'invoice:' || i.id
      WHERE i.period = $1`,
    [period],
  );
  return rows[0];
}
