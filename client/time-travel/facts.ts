/**
 * What a person would see after each step of a play, read from PostgreSQL (the system of record):
 * emails sent, invoices, minute plans, policy versions. The engine reads them after each step and
 * reports what is new as the step's events.
 */
import type { Pool } from 'pg';

export type PlayEvent =
  | { kind: 'policy-published'; atMs: number; version: number; effectiveFrom: string; differences: string[] }
  | { kind: 'policy-emails'; atMs: number; version: number; emailKind: 'notice' | 'reminder'; count: number }
  | { kind: 'policy-activated'; atMs: number; version: number; activeFrom: string }
  | { kind: 'alert'; atMs: number; subscriberId: string; period: string; percent: number }
  | { kind: 'late-call'; atMs: number; subscriberId: string; startedAt: string; minutes: number }
  | { kind: 'limit-requested'; atMs: number; requestId: string; subscriberId: string; minutes: number }
  | { kind: 'limit-approved'; atMs: number; requestId: string; subscriberId: string; minutes: number; reviewer: string }
  | { kind: 'close'; atMs: number; period: string; workflowId: string }
  | { kind: 'invoice'; atMs: number; invoice: InvoiceFact }
  | { kind: 'plan'; atMs: number; subscriberId: string; effectivePeriod: string; minutes: number; feeCents: number; currency: string };

export interface InvoiceFact {
  id: string;
  number: string;
  subscriberId: string;
  period: string;
  issueDate: string;
  currency: string;
  totalCents: number;
  overageMinutes: number;
  planMinutes: number | null;
  adjustments: { period: string; overageMinutes: number; amountCents: number }[];
}

export interface Facts {
  sentEmails: Map<string, { purpose: string; version: number | null; kind: string | null }>;
  invoices: Map<string, InvoiceFact>;
  plans: Map<string, { subscriberId: string; effectivePeriod: string; minutes: number; feeCents: number; currency: string }>;
  activePolicies: Map<number, string>;
}

export async function readFacts(pool: Pool): Promise<Facts> {
  const [emails, invoices, adjustments, plans, policies] = await Promise.all([
    pool.query(
      `SELECT o.idempotency_key AS key, o.purpose, p.version, p.kind
         FROM email_outbox o LEFT JOIN policy_emails p ON p.email_key = o.idempotency_key
        WHERE o.status = 'sent'`,
    ),
    pool.query(
      `SELECT id, number, subscriber_id AS "subscriberId", period, to_char(issue_date, 'YYYY-MM-DD') AS "issueDate", currency,
              total_cents::bigint AS "totalCents", overage_minutes AS "overageMinutes", plan_minutes AS "planMinutes"
         FROM invoices`,
    ),
    pool.query(
      `SELECT invoice_id AS "invoiceId", adjusted_period AS period, overage_minutes AS "overageMinutes", amount_cents::bigint AS "amountCents" FROM invoice_adjustments ORDER BY 1, 2`,
    ),
    // A plan's fee is in the currency of the policy in effect when it begins.
    pool.query(
      `SELECT subscriber_id AS "subscriberId", effective_period AS "effectivePeriod", minutes, fee_cents::bigint AS "feeCents",
              (SELECT p.currency FROM policies p WHERE p.state IN ('active', 'superseded') AND p.active_from <= (effective_period || '-01')::date
                ORDER BY p.active_from DESC LIMIT 1) AS currency
         FROM subscriber_plans`,
    ),
    pool.query(`SELECT version, to_char(active_from, 'YYYY-MM-DD') AS "activeFrom" FROM policies WHERE state = 'active' AND active_from IS NOT NULL`),
  ]);
  const adjustmentsOf = new Map<string, InvoiceFact['adjustments']>();
  for (const a of adjustments.rows) {
    if (!adjustmentsOf.has(a.invoiceId)) adjustmentsOf.set(a.invoiceId, []);
    adjustmentsOf.get(a.invoiceId)!.push({ period: a.period, overageMinutes: a.overageMinutes, amountCents: Number(a.amountCents) });
  }
  return {
    sentEmails: new Map(emails.rows.map((e) => [e.key as string, { purpose: e.purpose as string, version: e.version as number | null, kind: e.kind as string | null }])),
    invoices: new Map(invoices.rows.map((i) => [i.id as string, { ...i, totalCents: Number(i.totalCents), adjustments: adjustmentsOf.get(i.id) ?? [] } as InvoiceFact])),
    plans: new Map(plans.rows.map((p) => [`${p.subscriberId}:${p.effectivePeriod}`, { ...p, feeCents: Number(p.feeCents) }])),
    activePolicies: new Map(policies.rows.map((p) => [p.version as number, p.activeFrom as string])),
  };
}

/** What `after` shows that `before` did not, as events at `atMs`. */
export function newEvents(before: Facts, after: Facts, atMs: number): PlayEvent[] {
  const events: PlayEvent[] = [];
  const policyEmails = new Map<string, { version: number; emailKind: 'notice' | 'reminder'; count: number }>();
  for (const [key, email] of after.sentEmails) {
    if (before.sentEmails.has(key)) continue;
    if (email.purpose === 'usage-alert') {
      // usage-alert:<subscriber>:<period>:<percent> (billing/alerts.ts usageAlertKey)
      const [, subscriberId, period, percent] = key.split(':');
      events.push({ kind: 'alert', atMs, subscriberId: subscriberId!, period: period!, percent: Number(percent) });
    } else if (email.version !== null && (email.kind === 'notice' || email.kind === 'reminder')) {
      const id = `${email.version}:${email.kind}`;
      const counted = policyEmails.get(id) ?? { version: email.version, emailKind: email.kind, count: 0 };
      counted.count += 1;
      policyEmails.set(id, counted);
    }
  }
  for (const p of policyEmails.values()) events.push({ kind: 'policy-emails', atMs, ...p });
  for (const [version, activeFrom] of after.activePolicies) {
    if (!before.activePolicies.has(version)) events.push({ kind: 'policy-activated', atMs, version, activeFrom });
  }
  const invoices = [...after.invoices.values()].filter((i) => !before.invoices.has(i.id)).sort((a, b) => a.number.localeCompare(b.number));
  for (const invoice of invoices) events.push({ kind: 'invoice', atMs, invoice });
  for (const [key, plan] of after.plans) if (!before.plans.has(key)) events.push({ kind: 'plan', atMs, ...plan });
  return events;
}
