/**
 * How workflows call activities, with the one-line summary the UI shows for each call:
 * `db` for short database work, `local` for the same as a local activity (no round trip through
 * the server: a month close runs two of them per subscriber), `mail` for outbox delivery, which
 * waits out an SMTP outage, and `localMail` for the same as a local activity (backoffs past a
 * minute become timers).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Short database work: retried for a minute at most between attempts. */
const DATABASE_WORK = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
} as const;

/** Work that sends mail: an SMTP outage is waited out, up to 10 minutes between attempts. */
const MAIL_WORK = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
} as const;

export const db = (summary: string) => proxyActivities<Activities>({ ...DATABASE_WORK, summary });

export const mail = (summary: string) => proxyActivities<Activities>({ ...MAIL_WORK, summary });

export const localMail = (summary: string) => proxyLocalActivities<Activities>({ ...MAIL_WORK, summary });

export const local = (summary: string) => proxyLocalActivities<Activities>({ ...DATABASE_WORK, summary });
