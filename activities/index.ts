import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import type { Seller } from '../billing/invoice-document';
import { DEFAULT_SELLER } from '../config';
import { createAbuseActivities } from './abuse';
import { createCycleActivities } from './cycle';
import { createLimitRequestActivities } from './limit-requests';
import { createLimitRequestRecordActivities } from './limit-request-record';
import { createMailActivities, outboxDelivery } from './mail';
import { createMonthCloseActivities } from './month-close';
import { createOnboardingActivities } from './onboarding';
import { createStaffActivities } from './staff';
import { createPolicyChangeActivities } from './policy-change';
import { createPolicyPublicationActivities } from './policy-publication';
import { createUsageFollowUpActivities } from './usage-follow-ups';
import { createUsageCollectorActivities } from './usage-collector';
import type { CollectLimits } from '../db/usage-collect';

export interface ActivityDeps {
  pool: Pool;
  mailer: Transporter;
  mailFrom: string;
  temporal: Client;
  taskQueue: string;
  billingOpsEmail: string;
  /** Where limit-request and abuse-case notices and reminders go. */
  supportEmail: string;
  /** The grace period after a month ends before a subscriber's close (BILLING_CLOSE_GRACE_HOURS): the worker's is the one in force. */
  closeGraceHours: number;
  /** How much a collector reads per attempt (tests make it small). */
  collectLimits?: CollectLimits;
  /** Where asterisk-db collectors write rejected rows (default: the system's temporary folder). */
  rejectsDir?: string;
  /** Who issues the invoices (BILLING_SELLER_*); the configuration's defaults when not given. */
  seller?: Seller;
  /** How long an email send holds its outbox row (BILLING_MAIL_LEASE_SECONDS); db/outbox.ts's default when not given. */
  mailLeaseMs?: number;
}

export function createActivities(deps: ActivityDeps) {
  const mail = { mailFrom: deps.mailFrom, billingOpsEmail: deps.billingOpsEmail };
  const delivery = deps.mailLeaseMs === undefined ? {} : { leaseMs: deps.mailLeaseMs };
  return {
    ...createCycleActivities(deps.pool, outboxDelivery(deps.pool, deps.mailer, mail, delivery), deps.seller ?? DEFAULT_SELLER),
    ...createMailActivities(deps.pool, deps.mailer, mail, delivery),
    ...createMonthCloseActivities(deps.pool, deps.temporal, deps.taskQueue, deps.billingOpsEmail, deps.closeGraceHours),
    ...createLimitRequestActivities(deps.pool, deps.supportEmail),
    ...createLimitRequestRecordActivities(deps.pool, deps.temporal, deps.taskQueue),
    ...createStaffActivities(deps.pool),
    ...createOnboardingActivities(deps.pool, deps.temporal, deps.taskQueue),
    ...createAbuseActivities(deps.pool, deps.temporal, deps.taskQueue, deps.supportEmail),
    ...createPolicyChangeActivities(deps.pool, deps.mailer, deps.mailFrom, deps.billingOpsEmail, delivery),
    ...createPolicyPublicationActivities(deps.pool, deps.temporal, deps.taskQueue),
    ...createUsageFollowUpActivities(deps.pool, deps.temporal, deps.taskQueue),
    ...createUsageCollectorActivities(deps.pool, deps.temporal, deps.taskQueue, deps.billingOpsEmail, deps.collectLimits, deps.rejectsDir),
  };
}

export type Activities = ReturnType<typeof createActivities>;
