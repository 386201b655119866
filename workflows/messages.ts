/**
 * The messages of every process, defined once for workflows, the CLI and the docs (DESIGN,
 * "Processes and their names"). Payloads are plain JSON objects so support can send them from
 * the `temporal` CLI or the Temporal UI as well.
 *
 * Support's decisions (`approve`, `reject`, `decide`, `cancel`, `activate`) are both a signal and
 * an Update of the same name, with the same payload (the SDK keeps signal and update handlers
 * apart, and so does the server). Both go through one queue in the workflow, checked by the same
 * core rules; the first valid decision wins, whichever way it came. The Update answers the
 * caller: its validator refuses a decision that breaks the core's rules before anything is
 * recorded (it does not enter the history), and an accepted one returns the workflow's status once
 * the decision is carried out, or fails with the reason (an ApplicationFailure of type
 * DECISION_REFUSED, one line) when the workflow refused it after all (the reviewer is not active
 * support staff, or another decision came first); those are recorded like an invalid signal.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbuseCaseState, AbuseDecision, AbuseDecisionPayload, AbuseDetector } from '../billing/abuse';
import type { ApproveDecision, LimitDecision, LimitRequestState, RejectDecision } from '../billing/limits';
import type { CloseFailure } from '../billing/month-close';
import type { PolicyEmailProgress } from '../billing/policy-revision';

/**
 * Custom search attributes (DESIGN, "Processes"): registered on the server by `billing dev` and
 * `billing worker`, kept current by the workflows, so engineers can filter runs in the UI, e.g.
 * `SubscriberId = "alice"`, `BillingPeriod = "2026-10" AND CycleState = "closing"`.
 */
export const SubscriberIdKey = defineSearchAttributeKey('SubscriberId', SearchAttributeType.KEYWORD);
export const BillingPeriodKey = defineSearchAttributeKey('BillingPeriod', SearchAttributeType.KEYWORD);
export const CycleStateKey = defineSearchAttributeKey('CycleState', SearchAttributeType.KEYWORD);
export const OverageMinutesKey = defineSearchAttributeKey('OverageMinutes', SearchAttributeType.INT);
/** Where a limit-increase request stands: `pending`, `approved`, `rejected` or `expired`. */
export const RequestStateKey = defineSearchAttributeKey('RequestState', SearchAttributeType.KEYWORD);
/** The detectors of an abuse case's findings, e.g. `AbuseDetector = "dialer"` (a keyword list). */
export const AbuseDetectorKey = defineSearchAttributeKey('AbuseDetector', SearchAttributeType.KEYWORD_LIST);
/** Where an abuse case stands: `open`, `suspended`, `resumed`, `terminated` or `dismissed`. */
export const CaseStateKey = defineSearchAttributeKey('CaseState', SearchAttributeType.KEYWORD);
/** Where a policy revision stands: `notifying`, `scheduled`, `held`, `active` or `cancelled`. */
export const PolicyStateKey = defineSearchAttributeKey('PolicyState', SearchAttributeType.KEYWORD);
/**
 * A usage collector's source and health (issue 14), e.g. `UsageSource = "pbx-paris" AND
 * CollectorLagSeconds > 1800`: the source's name, never a number or a caller, so no personal data.
 */
export const UsageSourceKey = defineSearchAttributeKey('UsageSource', SearchAttributeType.KEYWORD);
/**
 * Seconds since the collector last read everything its source had: a Double, since SQL visibility
 * (the dev server's and PostgreSQL's) holds three Int attributes at most, taken by OverageMinutes
 * and the two row counts.
 */
export const CollectorLagSecondsKey = defineSearchAttributeKey('CollectorLagSeconds', SearchAttributeType.DOUBLE);
/** The time of the last record the collector read (asterisk-db: its calldate; spool: its file's time). */
export const LastRecordTimeKey = defineSearchAttributeKey('LastRecordTime', SearchAttributeType.DATETIME);
/** Rows the source's collectors read, and rejected, since it was added. */
export const RowsCollectedKey = defineSearchAttributeKey('RowsCollected', SearchAttributeType.INT);
export const RowsRejectedKey = defineSearchAttributeKey('RowsRejected', SearchAttributeType.INT);
export const SEARCH_ATTRIBUTES = [
  SubscriberIdKey,
  BillingPeriodKey,
  CycleStateKey,
  OverageMinutesKey,
  RequestStateKey,
  PolicyStateKey,
  AbuseDetectorKey,
  CaseStateKey,
  UsageSourceKey,
  CollectorLagSecondsKey,
  LastRecordTimeKey,
  RowsCollectedKey,
  RowsRejectedKey,
];
const CLI_SEARCH_ATTRIBUTE_TYPE: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', KEYWORD_LIST: 'KeywordList', DATETIME: 'Datetime', DOUBLE: 'Double' };
/** The type's name as the `temporal` CLI spells it (`--search-attribute Name=Type`): the dev server is started with them. */
export const cliSearchAttributeType = (key: { type: string }): string => CLI_SEARCH_ATTRIBUTE_TYPE[key.type]!;

/**
 * The memo field in which every run of `subscriber-<id>` carries its summary (billing/cycle-details.ts,
 * cycleSummary): a static summary is given only to the run a client starts, and continue-as-new
 * cannot pass one on (SDK 1.24), while the memo goes on from run to run.
 */
export const SUMMARY_MEMO = 'summary';

export const subscriberWorkflowId = (subscriberId: string): string => `subscriber-${subscriberId}`;
export const monthCloseWorkflowId = (period: string): string => `month-close-${period}`;
/** The Schedule that closes each month. */
export const MONTH_CLOSE_SCHEDULE_ID = 'billing-month-close';
/** Delivery of the usage alerts an import (`import-<id>`), a rematch (`rematch-<time>`) or an onboarding (`subscriber-added-<id>`) made due. */
export const usageAlertsWorkflowId = (origin: string): string => `usage-alerts-${origin}`;
/** A source's collector and the Schedule that runs it (`billing sources add`); the Schedule's runs get the schedule's ids. */
export const usageCollectorWorkflowId = (source: string): string => `usage-collector-${source}`;
export const limitRequestWorkflowId = (requestId: string): string => `limit-request-${requestId}`;
export const abuseCaseWorkflowId = (caseId: string): string => `abuse-case-${caseId}`;
/** An on-demand scan of one day (`billing abuse scan`); the Schedule's runs get the schedule's ids. */
export const abuseScanWorkflowId = (day: string): string => `abuse-scan-${day}`;
/** The Schedule that scans every day for abuse. */
export const ABUSE_SCAN_SCHEDULE_ID = 'billing-abuse-scan';
export const policyChangeWorkflowId = (version: number): string => `policy-change-${version}`;
/** Onboarding a subscriber (`billing subscribers add`): record, earlier calls, alerts, entity, policy notice. */
export const onboardSubscriberWorkflowId = (subscriberId: string): string => `onboard-subscriber-${subscriberId}`;
/** Recording a subscriber's `n`th limit request (`billing limit request`), which starts its `limit-request-<id>`. */
export const recordLimitRequestWorkflowId = (subscriberId: string, n: number): string => `record-limit-request-${subscriberId}-${n}`;
/**
 * Publishing policy version `version` (`billing policy publish`), which starts its
 * `policy-change-<version>`. Keyed by the version it will create, the next one when the CLI
 * asks: a CLI call retried while the first is under way meets it (and is told so), one retried
 * after it published asks for the version after, which the one-revision-at-a-time rule refuses,
 * and no two runs can ever write one version. Started with ALLOW_DUPLICATE_FAILED_ONLY: a refused
 * publication may be corrected and run again under the same id, a completed one never.
 */
export const publishPolicyWorkflowId = (version: number): string => `publish-policy-${version}`;
/** An import's follow-up (`billing usage import`, `billing usage alerts`): queues the alerts its calls made due and hands them to `usage-alerts-import-<id>`. */
export const usageImportWorkflowId = (importId: number): string => `usage-import-${importId}`;
/** `billing usage rematch` at a time (ms): attributes the unmatched records, queues the alerts made due, hands them to `usage-alerts-rematch-<time>`. */
export const usageRematchWorkflowId = (atMs: number): string => `usage-rematch-${atMs}`;

/**
 * The failure type of an operation refused by its first activity (a duplicate subscriber, number
 * or account code; a second pending limit request; a policy revision the rules refuse, or a second
 * one in flight; an import that does not exist or did not finish); its message is the one-line reason, and
 * nothing was written. The CLI exits 2 with it.
 */
export const OPERATION_REFUSED = 'OperationRefused';

// subscriber-<id>

/** `{ "period": "2026-10" }`: close that month (and any earlier open one) once it is over. */
export interface CloseCyclePayload {
  period: string;
  /** Hours to wait after the month ends in the subscriber's zone, for late call records. */
  graceHours?: number;
}
export const closeCycleSignal = defineSignal<[CloseCyclePayload]>('closeCycle');

/**
 * `limitChanged`, sent by `limit-request-<id>` when support approves a raised limit: the entity
 * shows it in its status. The rating reads the limit from PostgreSQL when the cycle closes.
 */
export interface LimitChangedPayload {
  requestId: string;
  minutes: number;
  fromPeriod: string;
  /** The last month it applies; null: no end. */
  untilPeriod: string | null;
}
export const limitChangedSignal = defineSignal<[LimitChangedPayload]>('limitChanged');

/**
 * `suspend`, `resume`, `terminate`: sent by `abuse-case-<id>` once support's decision is recorded
 * in PostgreSQL (the account's hold and status, which the switch and the close read). The entity
 * shows a suspension in its status; a termination ends the subscription with a final invoice for
 * the month so far, and the entity stops.
 */
export interface SuspendPayload {
  caseId: string;
  reason: string;
  /** When the suspension ends (ISO); null: until support lifts it. */
  until: string | null;
}
export const suspendSignal = defineSignal<[SuspendPayload]>('suspend');
export interface ResumePayload {
  caseId: string;
}
export const resumeSignal = defineSignal<[ResumePayload]>('resume');
export interface TerminatePayload {
  caseId: string;
  reason: string;
}
export const terminateSignal = defineSignal<[TerminatePayload]>('terminate');

/**
 * Where a run of a cycle stands (the search attribute CycleState): `open` until its close is asked,
 * `waiting-for-period-end`, then `invoiced` once its invoice is written, which a run that continued
 * as new keeps; `close-failed` while a close cannot go on, `terminated` when the subscription ended.
 * `closing` is what runs of the code before the patch `cycle-ends-invoiced` show from rating to the end.
 */
export type CycleState = 'open' | 'waiting-for-period-end' | 'closing' | 'invoiced' | 'close-failed' | 'terminated';

export interface InvoiceSummary {
  invoiceId: string;
  period: string;
  usedSeconds: number;
  overageMinutes: number;
  totalCents: number;
  /** The invoice's currency; absent from runs continued before the patch `cycle-ends-invoiced`. */
  currency?: string;
}

export interface SubscriberStatus {
  subscriberId: string;
  period: string;
  state: CycleState;
  pendingCloses: string[];
  closedCycles: number;
  lastInvoice: InvoiceSummary | null;
  rejectedSignals: string[];
  /** The raised limit in effect, when support approved one. */
  limit?: LimitChangedPayload | null;
  /** A suspension in force (abuse case), or the termination being carried out. */
  suspension?: SuspendPayload | null;
  termination?: TerminatePayload | null;
  /** Why the month's close cannot go on, while it waits for the next close request. */
  closeFailure?: string;
  /** What the run's current details say. */
  details?: string;
}
export const statusQuery = defineQuery<SubscriberStatus>('status');

// month-close-<YYYY-MM>

export interface MonthCloseProgress {
  period: string;
  phase: 'requesting' | 'waiting-for-cycles' | 'done';
  /** Subscribers billable for the month (in service before its end, not terminated before it began). */
  subscribers: number;
  requested: number;
  /** Invoices written for them; of those, emails sent, and emails the mail server refused for good. */
  invoices: number;
  emailed: number;
  mailFailed?: number;
  /** Subscribers whose close failed for good (no invoice), and the first of them with the reason. */
  failed?: number;
  failures?: CloseFailure[];
}
export const progressQuery = defineQuery<MonthCloseProgress>('progress');

// limit-request-<requestId>

export type { ApproveDecision, RejectDecision, LimitDecision, LimitRequestState };
/** `{ "reviewer": "sam", "minutes"?: 4000, "until"?: "2027-03", "note"?: "..." }` */
export const approveSignal = defineSignal<[ApproveDecision]>('approve');
/** `{ "reviewer": "sam", "reason": "..." }` */
export const rejectSignal = defineSignal<[RejectDecision]>('reject');
/** The same decisions as Updates: the status once carried out, or a DECISION_REFUSED failure with the reason. */
export const approveUpdate = defineUpdate<LimitRequestStatus, [ApproveDecision]>('approve');
export const rejectUpdate = defineUpdate<LimitRequestStatus, [RejectDecision]>('reject');

/** The failure type of a decision Update the workflow refused; its message is the one-line reason. */
export const DECISION_REFUSED = 'DecisionRefused';

export interface RejectedDecision {
  at: string;
  signal: 'approve' | 'reject';
  payload: unknown;
  problem: string;
}

export interface LimitRequestStatus {
  requestId: string;
  subscriberId: string;
  requestedMinutes: number;
  state: LimitRequestState;
  /** The first valid decision. */
  decision: LimitDecision | null;
  /** True once the outcome is carried out: the limit recorded and the subscriber told. */
  settled: boolean;
  /** The month the approved limit starts (the subscriber's month in progress at approval). */
  fromPeriod: string | null;
  /** True once an approved limit with an end month is past it. */
  ended: boolean;
  reminded: boolean;
  requestedAt: string;
  remindAt: string;
  expiresAt: string;
  /** What a decision is checked against. */
  rules: { currentLimitMinutes: number; ceilingMinutes: number };
  /** Decisions that changed nothing, and why. */
  rejectedDecisions: RejectedDecision[];
}
export const limitRequestStatusQuery = defineQuery<LimitRequestStatus>('status');

// abuse-scan-<day> and the Schedule billing-abuse-scan

export interface AbuseScanProgress {
  day: string;
  scanned: number;
  findings: number;
  cases: string[];
  done: boolean;
}
export const abuseScanProgressQuery = defineQuery<AbuseScanProgress>('progress');

// abuse-case-<caseId>

export type { AbuseCaseState, AbuseDecision, AbuseDecisionPayload };

/** A finding as the case carries it; the evidence is in PostgreSQL (`billing abuse show`). */
export interface CaseFinding {
  key: string;
  detector: AbuseDetector;
  day: string;
  summary: string;
}
/** `findingsAdded`: sent by the scan when it records new findings for the case. */
export const findingsAddedSignal = defineSignal<[CaseFinding[]]>('findingsAdded');
/** `{ "reviewer": "sam", "action": "suspend" | "terminate" | "dismiss", "reason": "...", "until"?: "YYYY-MM-DD" }` */
export const decideSignal = defineSignal<[AbuseDecisionPayload]>('decide');
/** `decide` as an Update: the case's status once the decision is carried out, or a DECISION_REFUSED failure. */
export const decideUpdate = defineUpdate<AbuseCaseStatus, [AbuseDecisionPayload]>('decide');

export interface RejectedAbuseDecision {
  at: string;
  payload: unknown;
  problem: string;
}

// policy-change-<version>

/** `{ "operator"?: "kim", "reason"?: "..." }`: cancel the revision; refused once its effective date has come. */
export interface PolicyCancelPayload {
  operator?: string;
  reason?: string;
}
export const policyCancelSignal = defineSignal<[PolicyCancelPayload]>('cancel');

/**
 * `{ "operator": "kim", "reason": "..." }`: billing operations' explicit decision to activate a
 * revision whose activation is held (some subscribers not told in time). Refused before the date.
 */
export interface PolicyActivatePayload {
  operator: string;
  reason?: string;
}
export const policyActivateSignal = defineSignal<[PolicyActivatePayload]>('activate');
/** `cancel` and `activate` as Updates: the revision's status once recorded, or a DECISION_REFUSED failure. */
export const policyCancelUpdate = defineUpdate<PolicyChangeStatus, [PolicyCancelPayload]>('cancel');
export const policyActivateUpdate = defineUpdate<PolicyChangeStatus, [PolicyActivatePayload]>('activate');

/** `{ "subscriberId": "zoe" }`, sent by `billing subscribers add`: a notice for them is queued; send it now. */
export const subscriberJoinedSignal = defineSignal<[{ subscriberId: string }]>('subscriberJoined');

export type PolicyChangePhase = 'notifying' | 'scheduled' | 'held' | 'active' | 'cancelled';

export interface PolicyHold {
  reason: 'notices-unsent' | 'notice-period';
  /** Notices not sent yet (notices-unsent). */
  unsent?: number;
  /** The day the notice period has passed for everyone, when it becomes active (notice-period). */
  activeFrom?: string;
  since: string;
}

export interface PolicyDecision {
  kind: 'cancel' | 'activate';
  operator: string;
  reason: string | null;
  at: string;
}

export interface RejectedPolicySignal {
  at: string;
  signal: 'cancel' | 'activate';
  payload: unknown;
  problem: string;
}

export interface AbuseCaseStatus {
  caseId: string;
  subscriberId: string;
  state: AbuseCaseState;
  findings: CaseFinding[];
  /** The decision carried out last (a suspension may be followed by a termination or a lift). */
  decision: AbuseDecision | null;
  /** True once the decision is carried out: recorded, the entity told, the subscriber mailed. */
  settled: boolean;
  /** When a timed suspension ends (ISO). */
  suspendedUntil: string | null;
  reminded: boolean;
  openedAt: string;
  remindAt: string;
  rejectedDecisions: RejectedAbuseDecision[];
}
export const abuseCaseStatusQuery = defineQuery<AbuseCaseStatus>('status');

export interface PolicyChangeStatus {
  version: number;
  effectiveFrom: string;
  noticeDays: number;
  phase: PolicyChangePhase;
  publishedAt: string;
  /** When the reminder goes out (7 days before the date), or null when the notice itself is that close. */
  reminderAt: string | null;
  remindersQueued: boolean;
  /** The first day the version applies, once active. */
  activeFrom: string | null;
  hold: PolicyHold | null;
  /** Sent, pending and failed emails by kind. */
  progress: PolicyEmailProgress;
  /** The mail server's last error while sending, and when the next attempt is. */
  lastSendError: string | null;
  nextAttemptAt: string | null;
  decision: PolicyDecision | null;
  rejectedSignals: RejectedPolicySignal[];
}
export const policyChangeStatusQuery = defineQuery<PolicyChangeStatus>('status');

// onboard-subscriber-<subscriberId>

/** What onboarding did, for `billing subscribers add` to print. */
export interface OnboardingResult {
  subscriberId: string;
  /** `subscriber-<id>`, started for the month of the service start (or already running). */
  entityWorkflowId: string;
  firstPeriod: string;
  /** Records that matched nobody before, attributed now. */
  earlierRecordsAttributed: number;
  /** Usage alerts those made due, and the workflow delivering them. */
  alertEmails: number;
  alertsWorkflowId: string | null;
  /** Notices of a policy revision in flight, queued for them; `handedOver`: its workflow was told to send it now. */
  policyNotices: { version: number; workflowId: string; handedOver: boolean; error?: string }[];
}

// publish-policy-<version>, usage-import-<id>, usage-rematch-<time>

/** An import's or a rematch's follow-up: the usage alerts it queued and the workflow delivering them (none when none was due). */
export interface UsageAlertsHandedOver {
  alertEmails: number;
  alertsWorkflowId: string | null;
}

/** `usage-rematch-<time>`: what was attributed (over every attempt of its first activity) and the alerts it made due. */
export interface RematchResult extends UsageAlertsHandedOver {
  examined: number;
  attributed: number;
  stillUnmatched: number;
  subscribersTouched: number;
}

/** One run of a source's collector (`usageCollectorWorkflow`'s activity `collectUsage`). */
export interface CollectorRun {
  paused: boolean;
  rows: number;
  rejected: number;
  duplicates: number;
  /** The imports it made, each with its `usage-import-<id>` follow-up when it touched an alertable month. */
  imports: number[];
  filesDone: number;
  filesFailed: number;
  failedFiles: { file: string; reason: string }[];
  /** It stopped for time: more is there. */
  more: boolean;
}

/** A source's health after a collector's run: what its details and search attributes show. */
export interface CollectorHealth {
  exists: boolean;
  /** The ops alert of the current incident (an outbox key), or null while healthy. */
  alertKey: string | null;
  lagSeconds: number;
  lastRecordAt: string | null;
  rowsCollected: number;
  rowsRejected: number;
  consecutiveFailures: number;
  paused: boolean;
}

export interface CollectorSummary extends Omit<CollectorRun, 'more' | 'paused'> {
  source: string;
  failed: string | null;
  health: CollectorHealth;
}
