/** Support staff's standing, checked before a limit request or an abuse case takes a decision. */
import type { Pool } from 'pg';
import { reviewerProblem } from '../billing/reviewers';
import { getStaffMember } from '../db/staff';

export function createStaffActivities(pool: Pool) {
  return {
    /** Why the reviewer may not decide, or null when they are active support staff. */
    async checkReviewer(input: { reviewer: string }): Promise<string | null> {
      return reviewerProblem(input.reviewer, await getStaffMember(pool, input.reviewer)) ?? null;
    },
  };
}
