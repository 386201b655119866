/**
 * Publishing a policy revision, as `billing policy publish` does (and the tests, with the test
 * server's day): `publish-policy-<version>` checks and stores the version, and starts
 * `policy-change-<version>`, which tells subscribers (workflows/publish-policy.ts). A refusal is an
 * InputError (exit 2) with the rule's one line.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { PolicyChanges } from '../billing/policy-revision';
import { nextPolicyVersion } from '../db/policies';
import { publishPolicyWorkflowId } from '../workflows/messages';
import type { PublishedPolicy, publishPolicyWorkflow } from '../workflows/publish-policy';
import { runOperation } from './operations';

export interface PublishRequest {
  effectiveFrom: string;
  changes: PolicyChanges;
  /** Today (YYYY-MM-DD, UTC): the notice period is counted from it. */
  today: string;
  publishedBy: string;
  taskQueue: string;
  batchSize: number;
  retryMaxMinutes: number;
  /** Tests: continue as new early, to cover the state carried across runs. */
  continueAsNewAfterEvents?: number;
}

export async function publishPolicyRevision(pool: Pool, temporal: Client, r: PublishRequest): Promise<PublishedPolicy> {
  const { taskQueue, ...input } = r;
  // The id is the version this publication creates (workflows/messages.ts, publishPolicyWorkflowId):
  // a retried call finds the first under way, or asks for the next version and is refused.
  const version = await nextPolicyVersion(pool);
  return runOperation<typeof publishPolicyWorkflow>(temporal, 'publishPolicyWorkflow', {
    workflowId: publishPolicyWorkflowId(version),
    taskQueue,
    args: [{ version, ...input }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    staticSummary: `Publishing policy version ${version}, effective ${r.effectiveFrom}`,
  });
}
