/**
 * The support console (`billing console`, README "The support console"): a server-rendered
 * Fastify application. Pages are Eta templates (console/views), forms post plain HTML and htmx
 * (served from the htmx.org package) swaps the answer in place where JavaScript runs. Every form
 * carries a CSRF token (@fastify/csrf-protection, its secret in a signed cookie); everything but
 * the sign-in page, the static files and /healthz needs a signed-in member (console/auth.ts).
 */
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import type { Client } from '@temporalio/client';
import { Eta } from 'eta';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Config } from '../config';
import { proxyTrust } from './addresses';
import { registerAuth } from './auth';
import { registerDecisions } from './decisions';
import { registerPages } from './pages';
import { PUBLIC_DIR, render, VIEWS_DIR } from './render';

export interface ConsoleOptions {
  config: Config;
  pool: Pool;
  /** The Temporal client decisions go through, connected on first use. */
  temporal: () => Promise<Client>;
  namespace: string;
  /** Signs the cookies (console/secret.ts). */
  secret: string;
}

/** The htmx build the pages load, from the htmx.org package. */
const HTMX_DIR = path.dirname(require.resolve('htmx.org/dist/htmx.min.js'));

export async function buildConsole(options: ConsoleOptions): Promise<FastifyInstance> {
  const { config, pool } = options;
  const app = Fastify({ logger: false, trustProxy: config.consoleTrustedProxies, bodyLimit: 64 * 1024 });
  await app.register(fastifyCookie, { secret: options.secret });
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/cookie', cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true } });
  await app.register(fastifyView, { engine: { eta: new Eta({ views: VIEWS_DIR, cache: true }) }, templates: VIEWS_DIR });
  await app.register(fastifyStatic, { root: [PUBLIC_DIR, HTMX_DIR], prefix: '/static/', index: false, maxAge: '1h' });

  app.addHook('onSend', async (_request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'");
  });

  app.get('/healthz', async (_request, reply) => {
    try {
      await pool.query('SELECT 1');
      return reply.type('text/plain').send('ok\n');
    } catch (error) {
      return reply
        .code(503)
        .type('text/plain')
        .send(`database unreachable: ${(error as Error).message}\n`);
    }
  });

  registerAuth(app, pool, { trustHeader: config.consoleTrustHeader, isProxy: proxyTrust(config.consoleTrustedProxies) });
  // Every form: a POST without the token of this browser's CSRF cookie is refused before its route runs.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    app.csrfProtection(request, reply, done);
  });
  registerPages(app, options);
  registerDecisions(app, options);

  app.setNotFoundHandler(async (request, reply) => render(request, reply.code(404), 'error', { title: 'Not found', message: `Nothing at ${request.url}.` }));
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') {
      return render(request, reply.code(403), 'error', {
        title: 'Form refused',
        message:
          'The form did not carry this browser’s security token (it may have been open before a sign-in, or come from another site). Nothing was changed: reload the page and try again.',
      });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return render(request, reply.code(status), 'error', { title: status === 500 ? 'Something failed' : 'Refused', message: error.message });
  });
  return app;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

export async function listenConsole(app: FastifyInstance, host: string, port: number): Promise<RunningConsole> {
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const shown = host === '0.0.0.0' || host === '::' || host === '127.0.0.1' ? 'localhost' : host;
  return { url: `http://${shown}:${boundPort}`, close: () => app.close() };
}
