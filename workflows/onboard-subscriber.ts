/**
 * onboard-subscriber-<id>: `billing subscribers add` as one durable operation (DESIGN,
 * "Processes": multi-step operations run as workflows whose first activity writes the record).
 * The subscriber is inserted once (keyed by this run, so a retry after a crash returns instead of
 * refusing a duplicate of itself); then the records that matched nobody and are now theirs are
 * attributed and the alerts they made due handed to a delivery workflow, their `subscriber-<id>`
 * entity is started, and the notice of a policy revision in flight is queued and its
 * `policy-change-<version>` woken to send it. A worker that dies at any step leaves the rest to
 * the next one; nothing is undone and nothing done twice.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ActivityFailure, getExternalWorkflowHandle, ParentClosePolicy, startChild, type ChildWorkflowOptions, type Workflow } from '@temporalio/workflow';
import type { NewSubscriber } from '../activities/onboarding';
import type { deliverEmailsWorkflow } from './email-delivery';
import type { subscriberWorkflow } from './subscriber';
import { db } from './activity-proxies';
import {
  OPERATION_REFUSED, policyChangeWorkflowId, subscriberJoinedSignal, subscriberWorkflowId, usageAlertsWorkflowId, type OnboardingResult,
} from './messages';

export async function onboardSubscriberWorkflow(subscriber: NewSubscriber): Promise<OnboardingResult> {
  const subscriberId = subscriber.id;
  try {
    await db(`Register subscriber ${subscriberId}`).registerSubscriber(subscriber);
  } catch (error) {
    // A refusal (already registered, a number taken) ends the operation with its reason: nothing was written.
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === OPERATION_REFUSED) {
      throw ApplicationFailure.nonRetryable(error.cause.message, OPERATION_REFUSED);
    }
    throw error;
  }

  // Records that arrived before this subscriber or number was registered are theirs now.
  const rematch = await db('Attribute unmatched call records').attributeUnmatchedCalls({ subscriberId });
  let alertsWorkflowId: string | null = null;
  if (rematch.alertKeys.length > 0) {
    alertsWorkflowId = usageAlertsWorkflowId(`subscriber-added-${subscriberId}`);
    await startAbandoned<typeof deliverEmailsWorkflow>('deliverEmailsWorkflow', {
      workflowId: alertsWorkflowId, args: [{ keys: rematch.alertKeys }], staticSummary: `Usage alerts: ${rematch.alertKeys.length} emails`,
    });
  }

  const firstPeriod = subscriber.serviceStart.slice(0, 7);
  await startAbandoned<typeof subscriberWorkflow>('subscriberWorkflow', {
    workflowId: subscriberWorkflowId(subscriberId), args: [{ subscriberId, period: firstPeriod }], staticSummary: `Billing cycle of subscriber ${subscriberId}`,
  });

  const policyNotices: OnboardingResult['policyNotices'] = [];
  for (const version of await db('Queue the notice of a policy revision in flight').queuePolicyNoticesForNewSubscriber({ subscriberId })) {
    const workflowId = policyChangeWorkflowId(version);
    try {
      await getExternalWorkflowHandle(workflowId).signal(subscriberJoinedSignal, { subscriberId });
      policyNotices.push({ version, workflowId, handedOver: true });
    } catch (error) {
      // Not running (yet, or any more): it sends queued notices with its next batch.
      policyNotices.push({ version, workflowId, handedOver: false, error: (error as Error).message });
    }
  }
  return {
    subscriberId, entityWorkflowId: subscriberWorkflowId(subscriberId), firstPeriod, earlierRecordsAttributed: rematch.attributed,
    alertEmails: rematch.alertKeys.length, alertsWorkflowId, policyNotices,
  };
}

/**
 * Starts a workflow that outlives this one (the entity runs for years); one already running
 * (the month close may have started the entity) is kept.
 */
async function startAbandoned<W extends Workflow>(
  type: string, options: { workflowId: string; args: Parameters<W>; staticSummary: string },
): Promise<void> {
  const start = startChild as (workflowType: string, options: ChildWorkflowOptions & { args: unknown[] }) => Promise<unknown>;
  try {
    await start(type, { ...options, parentClosePolicy: ParentClosePolicy.ABANDON });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
