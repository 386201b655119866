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
import { ApplicationFailure, ActivityFailure, getExternalWorkflowHandle } from '@temporalio/workflow';
import type { NewSubscriber } from '../activities/onboarding';
import { db } from './activity-proxies';
import { OPERATION_REFUSED, policyChangeWorkflowId, subscriberJoinedSignal, type OnboardingResult } from './messages';

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
  const alertsWorkflowId =
    rematch.alertKeys.length > 0 ? await db('Hand the usage alerts to their delivery').startUsageAlertDelivery({ subscriberId, keys: rematch.alertKeys }) : null;

  const firstPeriod = subscriber.serviceStart.slice(0, 7);
  const entityWorkflowId = await db(`Start ${subscriberId}'s billing cycle`).startSubscriberCycle({ subscriberId, period: firstPeriod });

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
    subscriberId,
    entityWorkflowId,
    firstPeriod,
    earlierRecordsAttributed: rematch.attributed,
    alertEmails: rematch.alertKeys.length,
    alertsWorkflowId,
    policyNotices,
  };
}
