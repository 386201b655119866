/** Email delivery from the outbox through nodemailer; each email at most once. */
import { heartbeat } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import { deliverOnce } from '../db/outbox';

/** A stable Message-ID per outbox key, so even a resend after a crash is recognisable as one email. */
export function messageIdFor(key: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@redconnect-billing>`;
}

/** Sends the outbox email with a key through the mailer, at most once (db/outbox.ts). */
export function outboxDelivery(pool: Pool, mailer: Transporter, mailFrom: string): (key: string) => Promise<'sent' | 'already-sent' | 'withdrawn'> {
  return (key) => deliverOnce(pool, key, async (email) => {
    const messageId = messageIdFor(email.key);
    await mailer.sendMail({ from: mailFrom, to: email.to, subject: email.subject, text: email.text, html: email.html, messageId });
    return messageId;
  });
}

export function createMailActivities(pool: Pool, mailer: Transporter, mailFrom: string) {
  const deliver = outboxDelivery(pool, mailer, mailFrom);
  return {
    async deliverEmail(input: { key: string }): Promise<'sent' | 'already-sent' | 'withdrawn'> {
      return deliver(input.key);
    },

    /** Delivers a list of outbox emails in turn; a retry skips those already sent. */
    async deliverEmails(input: { keys: string[] }): Promise<{ sent: number; alreadySent: number }> {
      const result = { sent: 0, alreadySent: 0 };
      for (const key of input.keys) {
        if ((await deliver(key)) === 'sent') result.sent += 1;
        else result.alreadySent += 1;
        heartbeat(result);
      }
      return result;
    },
  };
}
