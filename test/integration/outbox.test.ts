/**
 * The outbox against a real PostgreSQL and a real SMTP server (issue 12, items 13 and 4): every
 * attempt is committed before the SMTP transaction, a send the server accepted but nobody recorded
 * is resent with the same Message-ID and counted as outcome unknown, two deliveries never send one
 * email at once, and a recipient refused for good fails the email once, with one alert to ops.
 */
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { Client } from 'pg';
import { messageIdFor, outboxDelivery } from '../../activities/mail';
import { enqueueEmail, EmailInFlightError, type DeliveryOutcome } from '../../db/outbox';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { TEST_MAIL_FROM, TEST_OPS_EMAIL } from '../helpers/temporal';
import { until } from '../helpers/wait';

let db: TestDatabase;
let smtp: TestSmtpServer;
let slowSmtp: TestSmtpServer;
let mailer: Transporter;
let slowMailer: Transporter;
const settings = { mailFrom: TEST_MAIL_FROM, billingOpsEmail: TEST_OPS_EMAIL };

beforeAll(async () => {
  [db, smtp, slowSmtp] = await Promise.all([createTestDatabase(), startSmtpServer(), startSmtpServer({ confirmDelayMs: 1500 })]);
  mailer = nodemailer.createTransport({ url: smtp.url });
  slowMailer = nodemailer.createTransport({ url: slowSmtp.url });
  await givenSubscriber(db.pool, { id: 'ada' });
});

afterAll(async () => {
  mailer?.close();
  slowMailer?.close();
  await Promise.all([db?.drop(), smtp?.close(), slowSmtp?.close()]);
});

async function givenInvoiceMail(key: string, to = 'ada@example.test'): Promise<void> {
  await enqueueEmail(db.pool, { key, purpose: 'invoice', subscriberId: 'ada', to, subject: `Invoice ${key}`, text: 'Amount due: 20.00 USD', html: '<p>Amount due: 20.00 USD</p>' });
}

async function outboxRow(
  key: string,
): Promise<{ status: string; attempts: number; unknownOutcomes: number; lastError: string | null; messageId: string | null; attemptOpen: boolean }> {
  const { rows } = await db.pool.query(
    `SELECT status, attempts, unknown_outcomes AS "unknownOutcomes", last_error AS "lastError", message_id AS "messageId",
            attempt_token IS NOT NULL AS "attemptOpen"
       FROM email_outbox WHERE idempotency_key = $1`,
    [key],
  );
  return rows[0];
}

/** PostgreSQL lost for this test's database: no connection is accepted and those open are cut. */
async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.BILLING_TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
const databaseName = (): string => new URL(db.url).pathname.slice(1);
async function losePostgres(): Promise<void> {
  await admin(`ALTER DATABASE ${databaseName()} WITH ALLOW_CONNECTIONS false`);
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${databaseName()}' AND pid <> pg_backend_pid()`);
}
async function restorePostgres(): Promise<void> {
  await admin(`ALTER DATABASE ${databaseName()} WITH ALLOW_CONNECTIONS true`);
}

/** A mailer that really sends, then runs `afterAccepted` before reporting the server's acceptance. */
function sendingThen(real: Transporter, afterAccepted: () => Promise<void>): Transporter {
  return {
    sendMail: async (mail: SendMailOptions) => {
      const info = await real.sendMail(mail);
      await afterAccepted();
      return info;
    },
  } as unknown as Transporter;
}

/** Delivers, trying again while an earlier attempt's lease holds the email (as Temporal's retries do). */
async function deliverWhenFree(deliver: (key: string) => Promise<DeliveryOutcome>, key: string): Promise<DeliveryOutcome> {
  const outcome = await until(
    () => deliver(key).catch((error: Error) => error),
    (r) => !(r instanceof EmailInFlightError),
    20_000,
  );
  if (outcome instanceof Error) throw outcome;
  return outcome;
}

const mailsWithId = (server: TestSmtpServer, key: string) => server.received.filter((m) => m.messageId === messageIdFor(key));

test('an attempt is recorded (committed) before the SMTP transaction starts', async () => {
  await givenInvoiceMail('invoice:durable');
  const delivering = outboxDelivery(db.pool, slowMailer, settings)('invoice:durable');
  // While the slow relay holds the message, another connection already sees the attempt.
  await slowSmtp.waitForCount(1);
  expect(await outboxRow('invoice:durable')).toMatchObject({ status: 'pending', attempts: 1, attemptOpen: true });
  expect(await delivering).toBe('sent');
  expect(await outboxRow('invoice:durable')).toMatchObject({ status: 'sent', attempts: 1, unknownOutcomes: 0, attemptOpen: false, messageId: messageIdFor('invoice:durable') });
});

test("PostgreSQL lost between the server's acceptance and the commit: the next attempt resends the same Message-ID and counts the first as outcome unknown", async () => {
  await givenInvoiceMail('invoice:crash');
  const crashing = outboxDelivery(db.pool, sendingThen(mailer, losePostgres), settings, { leaseMs: 500, recordSentWithinMs: 300 });
  try {
    await expect(crashing('invoice:crash')).rejects.toThrow(/accepted by the mail server .* could not be recorded as sent/);
  } finally {
    await restorePostgres();
  }
  expect(mailsWithId(smtp, 'invoice:crash')).toHaveLength(1);
  // The attempt stays recorded, its outcome unknown to the outbox.
  expect(await outboxRow('invoice:crash')).toMatchObject({ status: 'pending', attempts: 1, unknownOutcomes: 0, attemptOpen: true });

  // Its lease lapses (its process is gone); the next delivery finds it.
  expect(await deliverWhenFree(outboxDelivery(db.pool, mailer, settings, { leaseMs: 500 }), 'invoice:crash')).toBe('sent');
  expect(await outboxRow('invoice:crash')).toMatchObject({ status: 'sent', attempts: 2, unknownOutcomes: 1, attemptOpen: false });
  const copies = mailsWithId(smtp, 'invoice:crash');
  expect(copies).toHaveLength(2);
  expect(new Set(copies.map((m) => m.messageId))).toEqual(new Set([messageIdFor('invoice:crash')]));
});

test("PostgreSQL back within the wait after the server's acceptance: the send is recorded, nothing is resent", async () => {
  await givenInvoiceMail('invoice:restart');
  const restartingDb = async (): Promise<void> => {
    await losePostgres();
    setTimeout(() => {
      void restorePostgres();
    }, 700);
  };
  expect(await outboxDelivery(db.pool, sendingThen(mailer, restartingDb), settings)('invoice:restart')).toBe('sent');
  expect(await outboxRow('invoice:restart')).toMatchObject({ status: 'sent', attempts: 1, unknownOutcomes: 0, attemptOpen: false });
  expect(await outboxDelivery(db.pool, mailer, settings)('invoice:restart')).toBe('already-sent');
  expect(mailsWithId(smtp, 'invoice:restart')).toHaveLength(1);
});

test('two workers delivering the same email at once send it once, and neither holds a lock during the send', async () => {
  await givenInvoiceMail('invoice:race');
  const a = outboxDelivery(db.pool, slowMailer, settings);
  const b = outboxDelivery(db.pool, slowMailer, settings);
  const first = a('invoice:race');
  await until(
    () => outboxRow('invoice:race'),
    (r) => r.attemptOpen,
  );
  // The second finds the email held by a live attempt and says so at once, to be retried later.
  await expect(b('invoice:race')).rejects.toBeInstanceOf(EmailInFlightError);
  // A statement on the row is not blocked by the send in progress.
  await db.pool.query(`UPDATE email_outbox SET subject = subject WHERE idempotency_key = 'invoice:race'`);
  expect(await first).toBe('sent');
  expect(await b('invoice:race')).toBe('already-sent');
  expect(mailsWithId(slowSmtp, 'invoice:race')).toHaveLength(1);
  expect(await outboxRow('invoice:race')).toMatchObject({ status: 'sent', attempts: 1, unknownOutcomes: 0 });
});

test("a recipient the server refuses for good (550): the email fails with the server's answer, ops are alerted once, nothing is retried", async () => {
  smtp.refuseRecipient('gone@example.test');
  await givenInvoiceMail('invoice:refused', 'gone@example.test');
  const deliver = outboxDelivery(db.pool, mailer, settings);
  expect(await deliver('invoice:refused')).toBe('failed');
  const row = await outboxRow('invoice:refused');
  expect(row).toMatchObject({ status: 'failed', attempts: 1, unknownOutcomes: 0, attemptOpen: false });
  expect(row.lastError).toMatch(/^550 5\.1\.1 No such user here/);
  expect(await outboxRow('mail-failed:invoice:refused')).toMatchObject({ status: 'sent', attempts: 1 });
  const alerts = () => smtp.received.filter((m) => m.to.includes(TEST_OPS_EMAIL) && m.subject.includes('gone@example.test'));
  expect(alerts()).toHaveLength(1);
  expect(alerts()[0]!.subject).toBe('Mail refused: invoice to gone@example.test');
  expect(alerts()[0]!.text).toContain('550 5.1.1 No such user here');

  // Delivered again (a retry, a rerun): still failed, not sent again, no second alert.
  expect(await deliver('invoice:refused')).toBe('failed');
  expect(await outboxRow('invoice:refused')).toMatchObject({ status: 'failed', attempts: 1 });
  expect(await outboxRow('mail-failed:invoice:refused')).toMatchObject({ status: 'sent', attempts: 1 });
  expect(alerts()).toHaveLength(1);
});

test('an alert that could not go out with the failure goes out on the next delivery', async () => {
  smtp.refuseRecipient('moved@example.test');
  await givenInvoiceMail('invoice:refused-then-outage', 'moved@example.test');
  // The server refuses the recipient, then goes down before the alert is sent.
  const refusingThenDown = {
    sendMail: async (mail: SendMailOptions) => {
      if (mail.to === TEST_OPS_EMAIL) smtp.setDown(true);
      return mailer.sendMail(mail);
    },
  } as unknown as Transporter;
  try {
    await expect(outboxDelivery(db.pool, refusingThenDown, settings)('invoice:refused-then-outage')).rejects.toMatchObject({ responseCode: 421 });
  } finally {
    smtp.setDown(false);
  }
  expect(await outboxRow('invoice:refused-then-outage')).toMatchObject({ status: 'failed' });
  expect(await outboxRow('mail-failed:invoice:refused-then-outage')).toMatchObject({ status: 'pending', attempts: 1, unknownOutcomes: 0 });
  expect(await outboxDelivery(db.pool, mailer, settings)('invoice:refused-then-outage')).toBe('failed');
  expect(await outboxRow('mail-failed:invoice:refused-then-outage')).toMatchObject({ status: 'sent', attempts: 2 });
});

test('a transient failure (421, server down) throws to be retried and is not counted as outcome unknown', async () => {
  await givenInvoiceMail('invoice:outage');
  const deliver = outboxDelivery(db.pool, mailer, settings);
  smtp.setDown(true);
  try {
    await expect(deliver('invoice:outage')).rejects.toMatchObject({ responseCode: 421 });
  } finally {
    smtp.setDown(false);
  }
  const row = await outboxRow('invoice:outage');
  expect(row).toMatchObject({ status: 'pending', attempts: 1, unknownOutcomes: 0, attemptOpen: false });
  expect(row.lastError).toContain('421');
  expect(await deliver('invoice:outage')).toBe('sent');
  expect(await outboxRow('invoice:outage')).toMatchObject({ status: 'sent', attempts: 2, unknownOutcomes: 0, lastError: null });
});
