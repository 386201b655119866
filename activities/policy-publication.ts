/**
 * The I/O of `publish-policy-<version>` (workflows/publish-policy.ts): the revision checked and
 * stored once per workflow run, then its `policy-change-<version>` started.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { grantsOvertaken, type LimitGrant } from '../billing/limits';
import { policyDifferences, revisionInFlightProblem, revisionProblem, type PolicyChanges, type PolicyDifference } from '../billing/policy-revision';
import { grantsInForceFrom } from '../db/limit-requests';
import { writeOnce } from '../db/operations';
import { activePolicy, insertScheduledPolicy, RevisionInFlightError, scheduledPolicy, type PolicyRecord } from '../db/policies';
import type { PolicyChangeInput } from '../workflows/policy-change';
import { OPERATION_REFUSED, policyChangeWorkflowId } from '../workflows/messages';
import { operationKey } from './onboarding';

export type { PolicyChanges, PolicyDifference, PolicyRecord };

export interface PolicyRevisionRequest {
  /** The version to create: the next one when the CLI asked (it names the workflow). */
  version: number;
  effectiveFrom: string;
  changes: PolicyChanges;
  /** Today (YYYY-MM-DD, UTC) for the caller: the notice period is counted from it. */
  today: string;
  publishedBy: string;
}

export interface PolicyRevisionRecorded {
  revision: PolicyRecord;
  base: PolicyRecord;
  differences: PolicyDifference[];
  /** Approved limits at or below the new included minutes from the effective date: they no longer raise anyone's allowance. */
  overtaken: (LimitGrant & { subscriberId: string })[];
}

const refused = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, OPERATION_REFUSED);

export function createPolicyPublicationActivities(pool: Pool, temporal: Client, taskQueue: string) {
  return {
    /**
     * Checks the revision against the version in force (the core's rules, the notice period, one
     * revision at a time) and stores it as scheduled, once per workflow run; a refusal writes
     * nothing and is final.
     */
    async recordPolicyRevision(r: PolicyRevisionRequest): Promise<PolicyRevisionRecorded> {
      try {
        const { result } = await writeOnce(pool, operationKey(), async (client) => {
          const inFlight = await scheduledPolicy(client);
          if (inFlight) throw refused(revisionInFlightProblem(inFlight));
          const base = await activePolicy(client);
          const problem = revisionProblem(base, r.changes, r.effectiveFrom, r.today);
          if (problem) throw refused(problem);
          const rules = { ...base, ...r.changes };
          const differences = policyDifferences(base, rules);
          const revision = await insertScheduledPolicy(client, { version: r.version, rules, effectiveFrom: r.effectiveFrom, basedOn: base.version, publishedBy: r.publishedBy });
          const overtaken = grantsOvertaken(await grantsInForceFrom(client, r.effectiveFrom.slice(0, 7)), rules.includedMinutes, r.effectiveFrom);
          return { revision, base, differences, overtaken };
        });
        return result;
      } catch (error) {
        if (error instanceof RevisionInFlightError) throw refused(error.message);
        throw error;
      }
    },

    /**
     * Starts the revision's `policy-change-<version>`, which tells every subscriber and activates
     * it on the date; one already running (a retry) is kept. Started from here rather than as a
     * child: it outlives the publication by weeks.
     */
    async startPolicyChange(input: PolicyChangeInput & { differences: PolicyDifference[] }): Promise<string> {
      const { differences, ...args } = input;
      const workflowId = policyChangeWorkflowId(input.version);
      await temporal.workflow.start('policyChangeWorkflow', {
        workflowId,
        taskQueue,
        args: [args],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Policy version ${input.version}, effective ${input.effectiveFrom}: ${differences.map((d) => d.label.toLowerCase()).join(', ')}`,
        staticDetails:
          differences.map((d) => `- ${d.label}: ${d.before} → ${d.after}`).join('\n') +
          `\n\nCancel before ${input.effectiveFrom} with the signal \`cancel\` {"operator", "reason"}; while activation is held, activate by hand with \`activate\` {"operator", "reason"}.`,
      });
      return workflowId;
    },
  };
}
