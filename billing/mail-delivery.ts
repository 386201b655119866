/**
 * What a mail server's answer means for an outbox email (issue 12, items 4 and 13), and the alert
 * billing operations get when a recipient is refused for good. Pure: an error in, a verdict out.
 */
import type { EmailContent } from './emails';
import { message } from './plain-email';

/** The parts of a nodemailer error these rules read. */
export interface SmtpError {
  message?: string;
  /** nodemailer's class of error: EENVELOPE (sender or recipients refused), EMESSAGE (message refused), ECONNECTION, ... */
  code?: string;
  /** The system error under it, such as ECONNREFUSED. */
  originalCode?: string;
  /** The server's reply code, when it answered. */
  responseCode?: number;
  response?: string;
}

const REFUSALS_OF_THIS_MESSAGE = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * The server refused this message or its recipient for good: a 5xx reply (RFC 5321, "permanent
 * negative completion"; 503 is a bad sequence of commands, not a refusal) to the envelope or the
 * message. Sending it again gets the same answer, so the email is failed, not retried. A 5xx to the
 * session (authentication, TLS) is the relay's configuration, wrong for every email: retried.
 */
export function isPermanentRefusal(error: SmtpError): boolean {
  const code = error.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600 && code !== 503 && REFUSALS_OF_THIS_MESSAGE.has(error.code ?? '');
}

/** System errors that mean no connection was ever made: nothing was handed to any server. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A failed send that may nonetheless have been delivered: the connection was lost or timed out
 * without a reply, possibly after the message was handed over and before the server's "250"
 * reached us. A reply code (4xx, 5xx) says the message was not taken; a connection never made
 * handed nothing over.
 */
export function mayHaveBeenAccepted(error: SmtpError): boolean {
  if (typeof error.responseCode === 'number') return false;
  if (error.code === 'EDNS' || NEVER_CONNECTED.has(error.originalCode ?? '')) return false;
  return true;
}

/** The server's answer as recorded on the outbox row: its reply when there is one. */
export function serverAnswer(error: SmtpError): string {
  return error.response ?? error.message ?? String(error);
}

/** The idempotency key of the alert about the outbox email `key`: one alert per failed email. */
export const mailFailedAlertKey = (key: string): string => `mail-failed:${key}`;

export interface MailFailedAlertData {
  key: string;
  purpose: string;
  subscriberId: string | null;
  to: string;
  subject: string;
  answer: string;
}

export function mailFailedAlertEmail(d: MailFailedAlertData): EmailContent {
  return message(
    `Mail refused: ${d.purpose} to ${d.to}`,
    [
      `The mail server permanently refused the email "${d.subject}" to ${d.to}${d.subscriberId ? ` (subscriber ${d.subscriberId})` : ''}. It will not be sent again.`,
      `The server answered: ${d.answer}`,
      'Whatever the email carried (an invoice stands as written) is unchanged. Correct the address and let the subscriber know by another way; the outbox row is kept as failed.',
    ],
    [`outbox key: ${d.key}`, `billing status ${d.subscriberId ?? '<subscriber>'}`],
  );
}
