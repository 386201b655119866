/**
 * Support's decisions from the console: approve or reject a limit request, decide an abuse case.
 * They go through the CLI's own code (client/decisions.ts: the record checked, the reviewer's
 * standing, then the Update whose validator applies the core's rules), with the signed-in member
 * as the reviewer: there is no reviewer field to type. A refusal shows its reason beside the form
 * and changes nothing. With htmx the answer replaces the item in place; without JavaScript a
 * decision redirects back to the queue, and a refusal shows the queue with the reason.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeCase } from '../client/commands/abuse';
import { describeDecision } from '../client/commands/limit';
import { InputError } from '../client/context';
import { decideAbuseCase, decideLimitRequest } from '../client/decisions';
import type { AbuseDecisionPayload, ApproveDecision, RejectDecision } from '../workflows/messages';
import { requirePermission } from './auth';
import { queueItems, type PageDeps } from './pages';
import { render } from './render';

type Form = Record<string, string | undefined>;

/** A form field as the payload takes it: absent when left empty. */
const field = (form: Form, name: string): string | undefined => {
  const value = form[name]?.trim();
  return value ? value : undefined;
};

/** Whole minutes, as the CLI's --minutes reads them. */
const minutesOf = (text: string): number => {
  if (!/^\d{1,9}$/.test(text)) throw new InputError(`minutes "${text}" must be a whole number of minutes`);
  return Number(text);
};

export function registerDecisions(app: FastifyInstance, deps: PageDeps): void {
  const { pool } = deps;
  const guard = { preHandler: requirePermission('decide') };

  app.post('/limit-requests/:id/approve', guard, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const payload: Record<string, unknown> = { reviewer: request.staff!.id };
    if (field(form, 'until') !== undefined) payload.until = field(form, 'until');
    if (field(form, 'note') !== undefined) payload.note = field(form, 'note');
    return decided(request, reply, requestId(request), async (id) => {
      const minutes = field(form, 'minutes');
      if (minutes !== undefined) payload.minutes = minutesOf(minutes);
      const status = await decideLimitRequest(pool, await deps.temporal(), id, { kind: 'approve', payload: payload as unknown as ApproveDecision });
      return `${id} (${status.subscriberId}): ${describeDecision(status.decision, status)}; the subscriber is told`;
    });
  });

  app.post('/limit-requests/:id/reject', guard, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const payload = { reviewer: request.staff!.id, reason: field(form, 'reason') ?? '' } as RejectDecision;
    return decided(request, reply, requestId(request), async (id) => {
      const status = await decideLimitRequest(pool, await deps.temporal(), id, { kind: 'reject', payload });
      return `${id} (${status.subscriberId}): ${describeDecision(status.decision, status)}; the subscriber is told`;
    });
  });

  app.post('/abuse-cases/:id/decide', guard, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const payload: Record<string, unknown> = { reviewer: request.staff!.id, action: field(form, 'action') ?? '', reason: field(form, 'reason') ?? '' };
    if (field(form, 'until') !== undefined) payload.until = field(form, 'until');
    return decided(request, reply, caseId(request), async (id) => {
      const status = await decideAbuseCase(pool, await deps.temporal(), id, payload as unknown as AbuseDecisionPayload);
      return `${id} (${status.subscriberId}): ${describeCase(status)}`;
    });
  });

  /**
   * Runs the decision and answers: the outcome, or the refusal's reason (an InputError: the
   * record's state, the reviewer's standing, the Update validator's rule). Other failures
   * (Temporal out of reach, no worker in time) are errors: the page says so.
   */
  async function decided(request: FastifyRequest, reply: FastifyReply, id: string | undefined, decide: (id: string) => Promise<string>): Promise<FastifyReply> {
    if (!id) return render(request, reply.code(404), 'error', { title: 'Not found', message: `No such request or case: ${request.url}.` });
    const htmx = request.headers['hx-request'] === 'true';
    try {
      const outcome = await decide(id);
      // The answer replaces the whole item (its forms are done with); a refusal goes beside the forms.
      if (htmx) return render(request, reply.header('HX-Retarget', `#item-${id}`).header('HX-Reswap', 'outerHTML'), 'decided', { partial: true, id, outcome, problem: null });
      return reply.redirect(`/queue?decided=${encodeURIComponent(id)}`, 303);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      // htmx swaps only 2xx answers: the refusal comes as 200 in place, as 422 on a whole page.
      if (htmx) return render(request, reply, 'decided', { partial: true, id, outcome: null, problem: error.message });
      return render(request, reply.code(422), 'queue', { title: 'Queue', ...(await queueItems(pool)), problems: { [id]: error.message }, decided: '' });
    }
  }
}

function requestId(request: FastifyRequest): string | undefined {
  const { id } = request.params as { id: string };
  return /^LR-\d{1,12}$/.test(id) ? id : undefined;
}

function caseId(request: FastifyRequest): string | undefined {
  const { id } = request.params as { id: string };
  return /^AC-\d{1,12}$/.test(id) ? id : undefined;
}
