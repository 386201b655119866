/** The first write of `record-limit-request-<subscriber>-<n>` (workflows/record-limit-request.ts). */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { asPendingRequestError, insertLimitRequest, PendingRequestError, type LimitRequestRecord, type NewLimitRequest } from '../db/limit-requests';
import { writeOnce } from '../db/operations';
import { getSubscriber } from '../db/subscribers';
import { OPERATION_REFUSED } from '../workflows/messages';
import { operationKey } from './onboarding';

export type { LimitRequestRecord, NewLimitRequest };

export function createLimitRequestRecordActivities(pool: Pool) {
  return {
    /**
     * Records the request and its first step, once per workflow run; refused for good when the
     * subscriber does not exist or already has a pending request (DESIGN, "limit increase").
     */
    async recordLimitRequest(request: NewLimitRequest): Promise<LimitRequestRecord> {
      try {
        const { result } = await writeOnce(pool, operationKey(), async (client) => {
          if (!(await getSubscriber(client, request.subscriberId))) throw ApplicationFailure.nonRetryable(`subscriber "${request.subscriberId}" does not exist; see \`billing subscribers list\``, OPERATION_REFUSED);
          return insertLimitRequest(client, request);
        });
        return result;
      } catch (error) {
        const pending = await asPendingRequestError(pool, request.subscriberId, error);
        if (pending instanceof PendingRequestError) throw ApplicationFailure.nonRetryable(pending.message, OPERATION_REFUSED);
        throw pending;
      }
    },
  };
}
