/**
 * Publishing a policy revision, as `billing policy publish` does (and the tests, with the test
 * server's day): the core checks the parameters and the effective date, the version is stored as
 * scheduled, and `policy-change-<version>` starts telling subscribers.
 */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { effectiveDateProblem, policyDifferences, rulesProblem, type PolicyChanges, type PolicyDifference } from '../billing/policy-revision';
import { grantsOvertaken, type LimitGrant } from '../billing/limits';
import { grantsInForceFrom } from '../db/limit-requests';
import { activePolicy, discardScheduledPolicy, insertScheduledPolicy, RevisionInFlightError, scheduledPolicy, type PolicyRecord } from '../db/policies';
import { policyChangeWorkflowId } from '../workflows/messages';
import type { policyChangeWorkflow } from '../workflows/policy-change';
import { InputError } from './context';

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

export async function publishPolicyRevision(pool: Pool, temporal: Client, r: PublishRequest): Promise<{ revision: PolicyRecord; base: PolicyRecord; differences: PolicyDifference[]; workflowId: string; overtaken: (LimitGrant & { subscriberId: string })[] }> {
  const inFlight = await scheduledPolicy(pool);
  if (inFlight) throw new InputError(`policy version ${inFlight.version} is already scheduled for ${inFlight.effectiveFrom}: one revision at a time; cancel it first (\`billing policy cancel ${inFlight.version}\`) or wait until it is active`);
  const base = await activePolicy(pool);
  const rules = { ...base, ...r.changes };
  const problem = rulesProblem(rules) ?? effectiveDateProblem(r.effectiveFrom, r.today, base.noticeDays);
  if (problem) throw new InputError(problem);
  const differences = policyDifferences(base, rules);
  if (differences.length === 0) throw new InputError(`nothing changes: give at least one parameter that differs from version ${base.version} (see \`billing policy show ${base.version}\`)`);

  let revision: PolicyRecord;
  try {
    revision = await insertScheduledPolicy(pool, { rules, effectiveFrom: r.effectiveFrom, basedOn: base.version, publishedBy: r.publishedBy });
  } catch (error) {
    if (error instanceof RevisionInFlightError) throw new InputError(error.message);
    throw error;
  }
  const workflowId = policyChangeWorkflowId(revision.version);
  try {
    await temporal.workflow.start<typeof policyChangeWorkflow>('policyChangeWorkflow', {
      workflowId,
      taskQueue: r.taskQueue,
      args: [{ version: revision.version, effectiveFrom: r.effectiveFrom, noticeDays: base.noticeDays, batchSize: r.batchSize, retryMaxMinutes: r.retryMaxMinutes, continueAsNewAfterEvents: r.continueAsNewAfterEvents }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: `Policy version ${revision.version}, effective ${r.effectiveFrom}: ${differences.map((d) => d.label.toLowerCase()).join(', ')}`,
      staticDetails: differences.map((d) => `- ${d.label}: ${d.before} → ${d.after}`).join('\n')
        + `\n\nCancel before ${r.effectiveFrom} with the signal \`cancel\` {"operator", "reason"}; while activation is held, activate by hand with \`activate\` {"operator", "reason"}.`,
    });
  } catch (error) {
    await discardScheduledPolicy(pool, revision.version);
    throw error;
  }
  const overtaken = grantsOvertaken(await grantsInForceFrom(pool, r.effectiveFrom.slice(0, 7)), rules.includedMinutes, r.effectiveFrom);
  return { revision, base, differences, workflowId, overtaken };
}
