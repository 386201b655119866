/** The I/O of a policy revision: who is told, the emails in bounded batches, activation and cancellation. */
import { heartbeat } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import type { EmailContent } from '../billing/emails';
import { policyCancelledEmail, policyHoldAlertEmail, policyNoticeEmail, policyReminderEmail, type PolicyHoldData, type PolicyNoticeData } from '../billing/policy-emails';
import { policyDifferences } from '../billing/policy-revision';
import { inTransaction } from '../db/pool';
import { activatePolicyVersion, cancelPolicyVersion, policyVersion, scheduledPolicy } from '../db/policies';
import {
  policyEmailProgress,
  queuePolicyEmail,
  recipientsPage,
  unsentPolicyEmails,
  withdrawUnsentPolicyEmails,
  type PolicyEmailProgress,
  type Recipient,
} from '../db/policy-emails';
import { getSubscriber } from '../db/subscribers';
import { outboxDelivery } from './mail';

type SubscriberEmailKind = 'notice' | 'reminder' | 'cancellation';
const CONTENT: Record<SubscriberEmailKind, (d: PolicyNoticeData) => EmailContent> = {
  notice: policyNoticeEmail,
  reminder: policyReminderEmail,
  cancellation: policyCancelledEmail,
};

/** What a subscriber is told about a version: it against the version it replaces. */
async function noticeData(pool: Pool, version: number): Promise<(r: Recipient) => PolicyNoticeData> {
  const revision = await policyVersion(pool, version);
  const base = await policyVersion(pool, revision.basedOn ?? version);
  const differences = policyDifferences(base, revision);
  return (r) => ({ subscriberId: r.id, subscriberName: r.name, version, effectiveFrom: revision.effectiveFrom, differences });
}

/**
 * Queues the notice of every revision in flight for a subscriber who has just joined (the path of
 * `billing subscribers add`); the revision's workflow sends it. Returns the versions concerned.
 */
export async function queueNoticesForNewSubscriber(pool: Pool, subscriberId: string): Promise<number[]> {
  const revision = await scheduledPolicy(pool);
  const subscriber = await getSubscriber(pool, subscriberId);
  if (!revision || !subscriber || subscriber.status === 'terminated') return [];
  const data = (await noticeData(pool, revision.version))(subscriber);
  await queuePolicyEmail(pool, {
    version: revision.version,
    kind: 'notice',
    recipient: subscriber.id,
    subscriberId: subscriber.id,
    to: subscriber.email,
    atPublication: false,
    content: policyNoticeEmail(data),
  });
  return [revision.version];
}

export interface PolicySendResult {
  sent: number;
  /** Of those, notices to subscribers active at publication: their notice period starts now. */
  noticesSentAtPublication: number;
  failed: number;
  /** Why the batch stopped early: the mail server's error, or null. */
  stoppedBy: string | null;
  progress: PolicyEmailProgress;
}

export function createPolicyChangeActivities(pool: Pool, mailer: Transporter, mailFrom: string, billingOpsEmail: string) {
  const deliver = outboxDelivery(pool, mailer, { mailFrom, billingOpsEmail });
  return {
    /** Queues `kind` for the next page of recipients after `afterId`, once each. */
    async queuePolicyEmails(input: {
      version: number;
      kind: SubscriberEmailKind;
      afterId: string | null;
      limit: number;
      atPublication: boolean;
    }): Promise<{ queued: number; lastId: string | null; done: boolean }> {
      const page = await recipientsPage(pool, input);
      const data = await noticeData(pool, input.version);
      await inTransaction(pool, async (client) => {
        for (const r of page) {
          await queuePolicyEmail(client, {
            version: input.version,
            kind: input.kind,
            recipient: r.id,
            subscriberId: r.id,
            to: r.email,
            atPublication: input.atPublication,
            content: CONTENT[input.kind](data(r)),
          });
        }
      });
      return { queued: page.length, lastId: page.length ? page[page.length - 1]!.id : input.afterId, done: page.length < input.limit };
    },

    /**
     * Sends up to `limit` of the revision's unsent emails. A recipient the server refuses is
     * counted failed and the batch goes on; any other failure (server down) ends the batch.
     */
    async sendPolicyEmails(input: { version: number; limit: number }): Promise<PolicySendResult> {
      const result = { sent: 0, noticesSentAtPublication: 0, failed: 0, stoppedBy: null as string | null };
      for (const email of await unsentPolicyEmails(pool, input.version, input.limit)) {
        try {
          const outcome = await deliver(email.key);
          if (outcome === 'sent') {
            result.sent += 1;
            if (email.kind === 'notice' && email.atPublication) result.noticesSentAtPublication += 1;
          } else if (outcome === 'failed') {
            result.failed += 1;
          }
        } catch (error) {
          result.failed += 1;
          if ((error as { code?: string }).code !== 'EENVELOPE') {
            result.stoppedBy = (error as Error).message;
            break;
          }
        }
        heartbeat(result);
      }
      return { ...result, progress: await policyEmailProgress(pool, input.version) };
    },

    async policyEmailProgress(input: { version: number }): Promise<PolicyEmailProgress> {
      return policyEmailProgress(pool, input.version);
    },

    /** Queues billing operations' alert that activation is held, once per reason; sent with the rest. */
    async queuePolicyHoldAlert(input: PolicyHoldData & { tag: string }): Promise<string> {
      const { tag, ...data } = input;
      return queuePolicyEmail(pool, {
        version: input.version,
        kind: 'hold-alert',
        recipient: tag,
        subscriberId: null,
        to: billingOpsEmail,
        atPublication: false,
        content: policyHoldAlertEmail(data),
      });
    },

    /** Makes the version active; reminders not sent by then are withdrawn (their date has come). */
    async activatePolicyRevision(input: { version: number; activeFrom: string; atMs: number; by: string }): Promise<void> {
      await inTransaction(pool, async (client) => {
        await activatePolicyVersion(client, { version: input.version, activeFrom: input.activeFrom, at: new Date(input.atMs), by: input.by });
        await withdrawUnsentPolicyEmails(client, input.version, ['reminder']);
      });
    },

    /** Marks the revision cancelled and withdraws its unsent notices and reminders, in one transaction. */
    async cancelPolicyRevision(input: { version: number; atMs: number; by: string; reason: string | null }): Promise<{ withdrawn: number }> {
      return inTransaction(pool, async (client) => {
        await cancelPolicyVersion(client, { version: input.version, at: new Date(input.atMs), by: input.by, reason: input.reason });
        return { withdrawn: await withdrawUnsentPolicyEmails(client, input.version, ['notice', 'reminder']) };
      });
    },
  };
}
