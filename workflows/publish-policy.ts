/**
 * publish-policy-<version>: `billing policy publish` as one durable operation (DESIGN,
 * "Processes": multi-step operations run as workflows whose first activity writes the record).
 * The revision is checked and stored as scheduled once (keyed by this run; refused for good, with
 * nothing written, when the rules, the notice period or a revision in flight forbid it), then its
 * `policy-change-<version>` is started (by an activity, kept if already running), which tells
 * every subscriber and activates it on the date. A worker that dies between the two leaves the
 * start to the next one: no version is left scheduled without its workflow, and none needs undoing.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { PolicyChanges, PolicyRevisionRecorded } from '../activities/policy-publication';
import { db } from './activity-proxies';
import { OPERATION_REFUSED } from './messages';

export interface PublishPolicyInput {
  /** The version to create (the workflow's id names it). */
  version: number;
  /** YYYY-MM-DD: the first day it applies. */
  effectiveFrom: string;
  changes: PolicyChanges;
  /** Today (YYYY-MM-DD, UTC) for whoever publishes: the notice period counts from it (tests give the test server's day). */
  today: string;
  /** Who published it, for the record (`cli:<user>`). */
  publishedBy: string;
  /** For `policy-change-<version>`: subscribers per batch, the longest pause while the mail server fails, and (tests) an early continue-as-new. */
  batchSize: number;
  retryMaxMinutes: number;
  continueAsNewAfterEvents?: number;
}

export interface PublishedPolicy extends PolicyRevisionRecorded {
  /** `policy-change-<version>`, started. */
  workflowId: string;
}

export async function publishPolicyWorkflow(input: PublishPolicyInput): Promise<PublishedPolicy> {
  const { batchSize, retryMaxMinutes, continueAsNewAfterEvents, ...request } = input;
  let recorded: PolicyRevisionRecorded;
  try {
    recorded = await db(`Check and record policy version ${input.version}, effective ${input.effectiveFrom}`).recordPolicyRevision(request);
  } catch (error) {
    // A refusal (the rules, the notice period, a revision in flight) ends the publication with its reason: nothing was written.
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === OPERATION_REFUSED) {
      throw ApplicationFailure.nonRetryable(error.cause.message, OPERATION_REFUSED);
    }
    throw error;
  }
  const { revision, base, differences } = recorded;
  const workflowId = await db(`Start policy-change-${revision.version}`).startPolicyChange({
    version: revision.version,
    effectiveFrom: revision.effectiveFrom,
    noticeDays: base.noticeDays,
    batchSize,
    retryMaxMinutes,
    differences,
    ...(continueAsNewAfterEvents === undefined ? {} : { continueAsNewAfterEvents }),
  });
  return { ...recorded, workflowId };
}
