/**
 * The messages of every process, defined once for workflows, the CLI and the docs (DESIGN,
 * "Processes and their names"). Payloads are plain JSON objects so support can send them from
 * the `temporal` CLI or the Temporal UI as well.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * Custom search attributes (DESIGN, "Processes"): registered on the server by `billing dev` and
 * `billing worker`, kept current by the workflows, so engineers can filter runs in the UI, e.g.
 * `SubscriberId = "alice"`, `BillingPeriod = "2026-10" AND CycleState = "closing"`.
 */
export const SubscriberIdKey = defineSearchAttributeKey('SubscriberId', SearchAttributeType.KEYWORD);
export const BillingPeriodKey = defineSearchAttributeKey('BillingPeriod', SearchAttributeType.KEYWORD);
export const CycleStateKey = defineSearchAttributeKey('CycleState', SearchAttributeType.KEYWORD);
export const OverageMinutesKey = defineSearchAttributeKey('OverageMinutes', SearchAttributeType.INT);
export const SEARCH_ATTRIBUTES = [SubscriberIdKey, BillingPeriodKey, CycleStateKey, OverageMinutesKey];

export const subscriberWorkflowId = (subscriberId: string): string => `subscriber-${subscriberId}`;
export const monthCloseWorkflowId = (period: string): string => `month-close-${period}`;
/** The Schedule that closes each month. */
export const MONTH_CLOSE_SCHEDULE_ID = 'billing-month-close';
/** Delivery of the usage alerts an import (or a rematch, `rematch-<time>`) made due. */
export const usageAlertsWorkflowId = (origin: string): string => `usage-alerts-${origin}`;

// subscriber-<id>

/** `{ "period": "2026-10" }`: close that month (and any earlier open one) once it is over. */
export interface CloseCyclePayload {
  period: string;
  /** Hours to wait after the month ends in the subscriber's zone, for late call records. */
  graceHours?: number;
}
export const closeCycleSignal = defineSignal<[CloseCyclePayload]>('closeCycle');

export type CycleState = 'open' | 'waiting-for-period-end' | 'closing';

export interface InvoiceSummary {
  invoiceId: string;
  period: string;
  usedSeconds: number;
  overageMinutes: number;
  totalCents: number;
}

export interface SubscriberStatus {
  subscriberId: string;
  period: string;
  state: CycleState;
  pendingCloses: string[];
  closedCycles: number;
  lastInvoice: InvoiceSummary | null;
  rejectedSignals: string[];
}
export const statusQuery = defineQuery<SubscriberStatus>('status');

// month-close-<YYYY-MM>

export interface MonthCloseProgress {
  period: string;
  phase: 'requesting' | 'waiting-for-cycles' | 'done';
  subscribers: number;
  requested: number;
  invoices: number;
  emailed: number;
}
export const progressQuery = defineQuery<MonthCloseProgress>('progress');
