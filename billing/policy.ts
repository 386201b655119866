/**
 * The billing parameters of one policy version (DESIGN, "Billing rules"). The defaults are the
 * published Fair Usage Policy: 2400 included minutes a month, overage at the standard rate.
 * PostgreSQL's `policies` table holds every version; this module holds the shape and defaults once.
 */
import { DEFAULT_ABUSE_THRESHOLDS, type AbuseThresholds } from './abuse/thresholds';

export interface MinutePlan {
  minutes: number;
  feeCents: number;
}

export interface PolicyRules {
  includedMinutes: number;
  overageRateMicros: number;
  roundingIncrementSeconds: number;
  planStreakCycles: number;
  planCatalog: MinutePlan[];
  alertThresholdsPercent: number[];
  noticeDays: number;
  /** The due date of an invoice is this many days after its issue date. */
  paymentTermsDays: number;
  currency: string;
}

export interface PolicyVersion extends PolicyRules {
  version: number;
  /** First day the version applies, YYYY-MM-DD. */
  effectiveFrom: string;
  /** The abuse detectors' bounds under this version (issue 7). */
  abuse: AbuseThresholds;
}

export const DEFAULT_POLICY_RULES: PolicyRules = {
  includedMinutes: 2400,
  overageRateMicros: 50_000, // 0.05 USD a minute
  roundingIncrementSeconds: 1,
  planStreakCycles: 3,
  planCatalog: [
    { minutes: 500, feeCents: 1500 },
    { minutes: 1000, feeCents: 2500 },
    { minutes: 2500, feeCents: 5000 },
  ],
  alertThresholdsPercent: [80, 100],
  noticeDays: 30,
  paymentTermsDays: 14,
  currency: 'USD',
};

/** The version every installation starts with, in force since long before any subscriber. */
export const INITIAL_POLICY: PolicyVersion = {
  version: 1,
  effectiveFrom: '2000-01-01',
  ...DEFAULT_POLICY_RULES,
  abuse: DEFAULT_ABUSE_THRESHOLDS,
};
