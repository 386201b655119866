/**
 * How workflows call activities, with the one-line summary the UI shows for each call:
 * `db` for short database work, `local` for the same run as a local activity (no round trip
 * through the server: a month close runs five of them per subscriber), `mail` for outbox
 * delivery, which waits out an SMTP outage, and `localMail` for the same delivery as a local
 * activity: no activity task through the server, and backoffs past a minute become timers.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export const db = (summary: string) => proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary,
});

export const mail = (summary: string) => proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
  summary,
});

export const localMail = (summary: string) => proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
  summary,
});

export const local = (summary: string) => proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary,
});
