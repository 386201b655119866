/**
 * Usage alerts on a real PostgreSQL, delivered to a real SMTP server (DESIGN, "alerts"): only for
 * months from the service start, never for usage dated before it; a month already over in the
 * subscriber's zone but not yet invoiced (its grace window) is told that it has ended and what its
 * invoice will carry, not that further minutes are charged until the next cycle.
 */
import nodemailer from 'nodemailer';
import { outboxDelivery } from '../../activities/mail';
import { queueUsageAlerts } from '../../db/usage-alerts';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { TEST_MAIL_FROM } from '../helpers/temporal';

let db: TestDatabase;
let smtp: TestSmtpServer;
let deliver: (key: string) => Promise<unknown>;

beforeAll(async () => {
  [db, smtp] = await Promise.all([createTestDatabase(), startSmtpServer()]);
  deliver = outboxDelivery(db.pool, nodemailer.createTransport({ url: smtp.url }), { mailFrom: TEST_MAIL_FROM, billingOpsEmail: 'billing-ops@redconnect.example' });
});

afterAll(async () => {
  await Promise.all([db?.drop(), smtp?.close()]);
});

const minutes = (m: number): number => m * 60;

/** Queues the alerts an import of these months would, at `now`, and delivers them; returns their keys. */
async function alertsAt(now: string, subscriberId: string, periods: string[]): Promise<string[]> {
  const keys = await queueUsageAlerts(
    db.pool,
    periods.map((period) => ({ subscriberId, period })),
    Date.parse(now),
  );
  for (const key of keys) await deliver(key);
  return keys;
}

test('no alert for a month before the service start, nor for usage dated before it in the first month', async () => {
  await givenSubscriber(db.pool, { id: 'starter', serviceStart: '2027-03-10' });
  // February and the first days of March, before the service began: 2,500 minutes each.
  await givenCalls(db.pool, [...callsTotalling('starter', '2027-02-02', minutes(2500)), ...callsTotalling('starter', '2027-03-01', minutes(2500), 6 * 3600)]);
  expect(await alertsAt('2027-03-20T12:00:00Z', 'starter', ['2027-02', '2027-03'])).toEqual([]);
  // 1,400 minutes from the service start: 82 % of the allowance of 22 of 31 days (⌈2,400 × 22 / 31⌉ =
  // 1,704 min), whatever came before.
  await givenCalls(db.pool, callsTotalling('starter', '2027-03-12', minutes(1400)));
  expect(await alertsAt('2027-03-21T12:00:00Z', 'starter', ['2027-03'])).toEqual(['usage-alert:starter:2027-03:80']);
  expect(smtp.received.filter((m) => m.to.includes('starter@example.test')).map((m) => m.subject)).toEqual(['You have used 80 % of your RedConnect allowance for 2027-03']);
});

test('an alert for a month in its grace window says the month has ended and what its invoice will carry', async () => {
  for (const id of ['open-month', 'ended-month']) {
    await givenSubscriber(db.pool, { id, timezone: 'America/New_York', serviceStart: '2027-01-01' });
    await givenCalls(db.pool, callsTotalling(id, '2027-04-02', minutes(2500)));
  }
  // 23:00 on 30 April in New York: the month still runs.
  expect(await alertsAt('2027-05-01T03:00:00Z', 'open-month', ['2027-04'])).toEqual(['usage-alert:open-month:2027-04:100']);
  const open = smtp.received.find((m) => m.to.includes('open-month@example.test'))!;
  expect(open.subject).toBe('You have used your full RedConnect allowance for 2027-04');
  expect(open.text).toContain('until the next billing cycle begins');

  // 02:00 on 1 May in New York: April is over, its close waits for the grace period.
  expect(await alertsAt('2027-05-01T06:00:00Z', 'ended-month', ['2027-04'])).toEqual(['usage-alert:ended-month:2027-04:100']);
  const ended = smtp.received.find((m) => m.to.includes('ended-month@example.test'))!;
  expect(ended.subject).toBe('Your RedConnect usage for 2027-04, which has ended: 100 % of your allowance');
  expect(ended.text).toContain('Your billing month 2027-04 has ended. You used 2500 min of your 2400 min allowance (100 %).');
  expect(ended.text).toContain('Its invoice will carry 100 minutes of overage at 0.05 USD a minute: 5.00 USD, from the calls received so far.');
  expect(ended.text).not.toContain('until the next billing cycle');
});
