import type { Pool, PoolClient } from 'pg';

export interface OutboxEmail {
  key: string;
  purpose: string;
  subscriberId: string | null;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export async function enqueueEmail(db: Pool | PoolClient, email: OutboxEmail): Promise<void> {
  await db.query(
    `INSERT INTO email_outbox (idempotency_key, purpose, subscriber_id, to_address, subject, text_body, html_body)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
    [email.key, email.purpose, email.subscriberId, email.to, email.subject, email.text, email.html],
  );
}

export interface PendingEmail {
  key: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  status: 'pending' | 'sent' | 'failed' | 'withdrawn';
}

/**
 * Sends the outbox email with `key` at most once at a time: the row stays locked while the
 * SMTP transaction runs, and a sent email is never sent again, nor a withdrawn one at all.
 */
export async function deliverOnce(
  pool: Pool,
  key: string,
  send: (email: PendingEmail) => Promise<string>,
): Promise<'sent' | 'already-sent' | 'withdrawn'> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(
      `SELECT idempotency_key AS key, to_address AS "to", subject, text_body AS text, html_body AS html, status
         FROM email_outbox WHERE idempotency_key = $1 FOR UPDATE`,
      [key],
    );
    const email = rows[0] as PendingEmail | undefined;
    if (!email) throw new Error(`no email with key ${key} in the outbox`);
    if (email.status === 'sent' || email.status === 'withdrawn') {
      await client.query('COMMIT');
      return email.status === 'sent' ? 'already-sent' : 'withdrawn';
    }
    try {
      const messageId = await send(email);
      await client.query(
        `UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, message_id = $2, last_error = NULL
          WHERE idempotency_key = $1`,
        [key, messageId],
      );
      await client.query('COMMIT');
      return 'sent';
    } catch (error) {
      await client.query(`UPDATE email_outbox SET attempts = attempts + 1, last_error = $2 WHERE idempotency_key = $1`, [key, String(error)]);
      await client.query('COMMIT');
      throw error;
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
