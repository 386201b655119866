/** Email delivery from the outbox through nodemailer: each email sent by one attempt at a time, and once. */
import { heartbeat } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import { isPermanentRefusal, type SmtpError } from '../billing/mail-delivery';
import { renderInvoicePdf } from '../documents/invoice-pdf';
import { deliverOnce, type DeliveryOptions, type DeliveryOutcome } from '../db/outbox';
import { countEmailAttempt } from '../telemetry/metrics';

export type { DeliveryOutcome };

/** A stable Message-ID per outbox key, so even a resend after a crash is recognisable as one email. */
export function messageIdFor(key: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@redconnect-billing>`;
}

export interface MailSettings {
  mailFrom: string;
  /** Billing operations: told once about each email the server refused for good. */
  billingOpsEmail: string;
}

/**
 * Sends the outbox email with a key through the mailer (db/outbox.ts): 'sent', 'already-sent',
 * 'withdrawn', or 'failed' when the server refused it for good (recorded, ops alerted); a
 * transient failure throws, to be retried.
 */
export function outboxDelivery(pool: Pool, mailer: Transporter, settings: MailSettings, options: Omit<DeliveryOptions, 'alertTo'> = {}): (key: string) => Promise<DeliveryOutcome> {
  const slot = sendingSlots(mailer);
  return (key) =>
    slot(() =>
      deliverOnce(
        pool,
        key,
        async (email) => {
          const messageId = messageIdFor(email.key);
          // Attachments are rendered from what the outbox stores (an invoice's document): the same bytes on every attempt.
          const attachments = await Promise.all(
            email.attachments.map(async (a) => ({ filename: a.filename, contentType: 'application/pdf', content: await renderInvoicePdf(a.invoiceDocument) })),
          );
          try {
            await mailer.sendMail({
              from: settings.mailFrom,
              to: email.to,
              subject: email.subject,
              text: email.text,
              html: email.html,
              messageId,
              ...(attachments.length ? { attachments } : {}),
            });
          } catch (error) {
            countEmailAttempt(email.purpose, isPermanentRefusal(error as SmtpError) ? 'failed' : 'error');
            throw error;
          }
          countEmailAttempt(email.purpose, 'sent');
          return messageId;
        },
        { ...options, alertTo: settings.billingOpsEmail },
      ),
    );
}

const slotsByMailer = new WeakMap<Transporter, <T>(work: () => Promise<T>) => Promise<T>>();

/**
 * Deliveries in progress at once through one mailer: as many as its pooled connections (nodemailer
 * queues the rest inside the process). An attempt is then recorded only when a connection is free
 * to carry it, not minutes before in nodemailer's queue: one queued there when its process died
 * would count as of unknown outcome though it never reached the server.
 */
function sendingSlots(mailer: Transporter): <T>(work: () => Promise<T>) => Promise<T> {
  const known = slotsByMailer.get(mailer);
  if (known) return known;
  const options = (mailer as { transporter?: { options?: { pool?: boolean; maxConnections?: number } } }).transporter?.options;
  const size = options?.pool ? (options.maxConnections ?? 5) : Infinity;
  let busy = 0;
  const waiting: (() => void)[] = [];
  const slot = async <T>(work: () => Promise<T>): Promise<T> => {
    if (busy >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    else busy += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else busy -= 1;
    }
  };
  slotsByMailer.set(mailer, slot);
  return slot;
}

export interface DeliveryCounts {
  sent: number;
  alreadySent: number;
  /** Refused for good by the mail server: recorded on the outbox row, billing operations alerted. */
  failed: number;
}

export function createMailActivities(pool: Pool, mailer: Transporter, settings: MailSettings) {
  const deliver = outboxDelivery(pool, mailer, settings);
  return {
    async deliverEmail(input: { key: string }): Promise<DeliveryOutcome> {
      return deliver(input.key);
    },

    /** Delivers a list of outbox emails in turn; a retry skips those already sent or failed. */
    async deliverEmails(input: { keys: string[] }): Promise<DeliveryCounts> {
      const result: DeliveryCounts = { sent: 0, alreadySent: 0, failed: 0 };
      for (const key of input.keys) {
        const outcome = await deliver(key);
        if (outcome === 'sent') result.sent += 1;
        else if (outcome === 'failed') result.failed += 1;
        else result.alreadySent += 1;
        heartbeat(result);
      }
      return result;
    },
  };
}
