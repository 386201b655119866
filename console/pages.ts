/**
 * The console's read-only pages: the subscriber search and page, the queue, month closes and
 * policy versions. They read through the same db/ modules and core functions as the CLI's
 * `status`, `usage show`, `invoices`, `limit list`, `abuse list`, `close` and `policy list`.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import type { Pool } from 'pg';
import { grantInForce } from '../billing/limits';
import { closeComplete } from '../billing/month-close';
import { normalizeNumber } from '../billing/numbers';
import { localDay, periodOf } from '../billing/periods';
import { unsentEmails } from '../billing/policy-revision';
import { allowanceMinutes, monthlyLimitMinutes } from '../billing/rating';
import { IdSchema } from '../billing/validation';
import { describeCase } from '../client/commands/abuse';
import { describeDecision } from '../client/commands/limit';
import { invoiceDocumentOf, renderPdf } from '../client/invoice-pdf';
import type { Config } from '../config';
import { abuseCaseFindings, listAbuseCases } from '../db/abuse';
import { accountHolds, closedPeriods, searchSubscribers } from '../db/console';
import { listInvoices } from '../db/invoices';
import { listLimitRequests, type LimitRequestRecord } from '../db/limit-requests';
import { closeProgressSnapshot } from '../db/month-close';
import { monthUsage } from '../db/month-usage';
import { listPolicyVersions } from '../db/policies';
import { policyEmailProgress } from '../db/policy-emails';
import { getSubscriber, type Subscriber } from '../db/subscribers';
import { statusQuery, subscriberWorkflowId, type SubscriberStatus } from '../workflows/messages';
import { requirePermission } from './auth';
import { chartPoints, usageChartSvg } from './chart';
import { render } from './render';

export interface PageDeps {
  config: Config;
  pool: Pool;
  temporal: () => Promise<Client>;
  namespace: string;
}

/** How long the subscriber page waits for their cycle's status before it shows the page without it. */
const CYCLE_QUERY_MS = 3_000;

export function registerPages(app: FastifyInstance, deps: PageDeps): void {
  const { pool, config } = deps;

  app.get('/', async (_request, reply) => reply.redirect('/subscribers', 303));

  app.get('/subscribers', { preHandler: requirePermission('read-subscribers') }, async (request, reply) => {
    const q = String((request.query as { q?: string }).q ?? '').trim();
    const hits = q ? await searchSubscribers(pool, { text: q, number: normalizeNumber(q, config.defaultCountry as CountryCode) }) : [];
    return render(request, reply, 'search', { title: 'Subscribers', q, hits });
  });

  app.get('/subscribers/:id', { preHandler: requirePermission('read-subscribers') }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const subscriber = IdSchema.safeParse(id).success ? await getSubscriber(pool, id) : undefined;
    if (!subscriber) return render(request, reply.code(404), 'error', { title: 'Not found', message: `No subscriber "${id}".` });
    return render(request, reply, 'subscriber', { title: subscriber.name ?? subscriber.id, ...(await subscriberPage(deps, subscriber)) });
  });

  app.get('/invoices/:id/pdf', { preHandler: requirePermission('read-subscribers') }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const found = await invoiceDocumentOf(pool, config.seller, id);
    if (!found) return render(request, reply.code(404), 'error', { title: 'Not found', message: `No invoice "${id}".` });
    const bytes = await renderPdf(found.document);
    return reply.type('application/pdf').header('Content-Disposition', `inline; filename="${found.document.number}.pdf"`).send(bytes);
  });

  app.get('/queue', { preHandler: requirePermission('read-queue') }, async (request, reply) => {
    const decided = String((request.query as { decided?: string }).decided ?? '');
    return render(request, reply, 'queue', { title: 'Queue', ...(await queueItems(pool)), problems: {}, decided });
  });

  app.get('/closes', { preHandler: requirePermission('read-closes') }, async (request, reply) => {
    const periods = await closedPeriods(pool);
    const closes = await Promise.all(
      periods.map(async (period) => {
        const progress = await closeProgressSnapshot(pool, period);
        return { period, progress, complete: closeComplete(progress) };
      }),
    );
    return render(request, reply, 'closes', { title: 'Month closes', closes });
  });

  app.get('/policies', { preHandler: requirePermission('read-policies') }, async (request, reply) => {
    const versions = await listPolicyVersions(pool);
    const policies = await Promise.all(
      versions.map(async (policy) => {
        const progress = await policyEmailProgress(pool, policy.version);
        return { policy, progress, unsent: unsentEmails(progress) };
      }),
    );
    return render(request, reply, 'policies', { title: 'Policy versions', policies });
  });
}

/** Everything the subscriber page shows, read at once. */
async function subscriberPage(deps: PageDeps, subscriber: Subscriber) {
  const { pool, config } = deps;
  const now = Date.now();
  const period = periodOf(now, subscriber.timezone);
  const [month, invoices, requests, cases, holds, cycle] = await Promise.all([
    monthUsage(pool, subscriber, period).catch((error: Error) => error),
    listInvoices(pool, { subscriberId: subscriber.id }),
    listLimitRequests(pool, { subscriberId: subscriber.id }),
    listAbuseCases(pool, { subscriberId: subscriber.id }),
    accountHolds(pool, subscriber.id),
    cycleStatus(deps, subscriber.id),
  ]);
  let terms = null;
  let chart = null;
  if (!(month instanceof Error)) {
    const { usage, facts } = month;
    terms = {
      policyVersion: facts.policy.version,
      currency: facts.policy.currency,
      includedMinutes: facts.policy.includedMinutes,
      limitMinutes: monthlyLimitMinutes(month.terms),
      grant: grantInForce(facts.grants, period) ?? null,
      plan: facts.plan,
      allowanceMinutes: allowanceMinutes(month.terms),
      proration: month.terms.proration ?? null,
      overageRateMicros: facts.policy.overageRateMicros,
    };
    const points = chartPoints(period, usage.days, usage.allowanceSeconds, localDay(now, subscriber.timezone));
    chart = { usage, points, svg: usageChartSvg(period, points, usage.allowanceSeconds) };
  }
  const workflowId = subscriberWorkflowId(subscriber.id);
  return {
    subscriber,
    period,
    terms,
    termsProblem: month instanceof Error ? month.message : null,
    chart,
    invoices,
    requests: requests.map((r) => ({ ...r, outcome: describeRequest(r) })),
    cases: cases.map((c) => ({
      ...c,
      outcome: describeCase({ state: c.state, decision: c.reviewer ? { reviewer: c.reviewer, reason: c.reason ?? '' } : null, suspendedUntil: c.untilAt } as Parameters<
        typeof describeCase
      >[0]),
    })),
    holds,
    cycle,
    workflowId,
    temporalUrl: `${config.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`,
  };
}

function describeRequest(r: LimitRequestRecord): string {
  if (r.status === 'pending' || r.status === 'expired' || !r.reviewer) return r.status;
  const decision =
    r.status === 'rejected'
      ? { kind: 'reject' as const, reviewer: r.reviewer, reason: r.decisionNote ?? '' }
      : { kind: 'approve' as const, reviewer: r.reviewer, minutes: r.approvedMinutes ?? r.requestedMinutes, untilPeriod: r.untilPeriod, note: r.decisionNote };
  return describeDecision(decision, { fromPeriod: r.decidedAt?.slice(0, 7) ?? '' } as Parameters<typeof describeDecision>[1]);
}

async function cycleStatus(deps: PageDeps, subscriberId: string): Promise<{ status: SubscriberStatus | null; problem: string | null }> {
  try {
    const client = await deps.temporal();
    const status = await client.withDeadline(Date.now() + CYCLE_QUERY_MS, () => client.workflow.getHandle(subscriberWorkflowId(subscriberId)).query(statusQuery));
    return { status, problem: null };
  } catch (error) {
    return { status: null, problem: (error as Error).message };
  }
}

/** The queue: pending limit requests and open abuse cases, oldest first, each with its evidence. */
export async function queueItems(pool: Pool) {
  const [requests, cases] = await Promise.all([listLimitRequests(pool, { status: 'pending' }), listAbuseCases(pool, { state: 'open' })]);
  const subscribers = new Map<string, Subscriber | undefined>();
  const subscriberOf = async (id: string): Promise<Subscriber | undefined> => {
    if (!subscribers.has(id)) subscribers.set(id, await getSubscriber(pool, id));
    return subscribers.get(id);
  };
  const requestItems = await Promise.all(
    requests.map(async (request) => {
      const subscriber = await subscriberOf(request.subscriberId);
      const month = subscriber ? await monthUsage(pool, subscriber, periodOf(Date.now(), subscriber.timezone)).catch(() => null) : null;
      return {
        request,
        subscriber,
        evidence: month && {
          period: month.usage.period,
          usedSeconds: month.usage.usedSeconds,
          allowanceSeconds: month.usage.allowanceSeconds,
          limitMinutes: monthlyLimitMinutes(month.terms),
          overageMinutes: month.usage.overageMinutes,
        },
      };
    }),
  );
  const caseItems = await Promise.all(
    cases.map(async (abuseCase) => ({ abuseCase, subscriber: await subscriberOf(abuseCase.subscriberId), findings: await abuseCaseFindings(pool, abuseCase.id) })),
  );
  return { requestItems, caseItems };
}
