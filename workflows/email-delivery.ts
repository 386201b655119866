/**
 * usage-alerts-import-<id> (and any batch of queued emails): delivers outbox emails in chunks with
 * bounded concurrency and durable retries, so an SMTP outage delays mail but loses none, and no
 * email is sent twice (the outbox keys them).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { deliverEmails } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '30 minutes' },
});

const CHUNK = 100;
const CONCURRENCY = 4;

/** Emails sent, sent before, and refused for good by the mail server (recorded, ops alerted: not retried). */
export interface DeliveryTotals {
  sent: number;
  alreadySent: number;
  failed: number;
}

export async function deliverEmailsWorkflow(input: { keys: string[] }): Promise<DeliveryTotals> {
  const chunks: string[][] = [];
  for (let i = 0; i < input.keys.length; i += CHUNK) chunks.push(input.keys.slice(i, i + CHUNK));
  const total: DeliveryTotals = { sent: 0, alreadySent: 0, failed: 0 };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < chunks.length) {
      const result = await deliverEmails({ keys: chunks[next++]! });
      total.sent += result.sent;
      total.alreadySent += result.alreadySent;
      // (results recorded before refusals were counted apart have no `failed`)
      total.failed += result.failed ?? 0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, chunks.length) }, lane));
  return total;
}
