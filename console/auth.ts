/**
 * Who is asking: a member signed in with their password (a server-side session, its random token
 * in a signed, HttpOnly cookie; db/console.ts keeps only its SHA-256), or, when
 * BILLING_CONSOLE_TRUST_HEADER is set, the member a reverse proxy names in that header. Every page
 * but the sign-in page, the static files and /healthz needs one; what they may do there is their
 * role's (billing/staff-roles.ts), checked on the server for every route.
 */
import { createHash, randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { mayDo, MAX_PASSWORD_LENGTH, type StaffPermission } from '../billing/staff-roles';
import { passwordMatches } from '../client/passwords';
import { signInBlockedText, signInBlockedUntil, SIGN_IN_WINDOW_MINUTES, throttledLogin } from '../billing/sign-in-throttle';
import { clearSignInFailures, createConsoleSession, endConsoleSession, recentSignInFailures, recordSignInFailure, staffOfSession, type ConsoleStaff } from '../db/console';
import { staffForSignIn } from '../db/staff';
import type { ProxyTrust } from './addresses';
import { render } from './render';

export const SESSION_COOKIE = 'billing_console_session';
/** How long a sign-in lasts; signing out, or the member's deactivation, ends it sooner. */
export const SESSION_HOURS = 12;

declare module 'fastify' {
  interface FastifyRequest {
    staff?: ConsoleStaff;
    /** Signed in through the reverse proxy's header: no session of ours to end. */
    viaProxy?: boolean;
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Paths anyone may open: the sign-in page, the static files, the health check. */
export function isPublicPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/sign-in' || path === '/healthz' || path.startsWith('/static/');
}

/** Where to go after signing in: a path of this console only, never another site (`//evil`, `/\evil`). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) && !next.startsWith('/sign-') ? next : '/';
}

export function registerAuth(app: FastifyInstance, pool: Pool, options: { trustHeader?: string; isProxy: ProxyTrust }): void {
  app.addHook('onRequest', async (request, reply) => {
    request.staff = await signedIn(request, pool, options.trustHeader, options.isProxy);
    if (request.staff || isPublicPath(request.url)) return;
    const next = request.method === 'GET' ? request.url : '/';
    const signIn = `/sign-in?next=${encodeURIComponent(next)}`;
    if (request.headers['hx-request'] === 'true') return reply.code(401).header('HX-Redirect', signIn).send();
    return reply.redirect(signIn, 303);
  });

  app.get('/sign-in', async (request, reply) => {
    const next = safeNext((request.query as { next?: string }).next);
    if (request.staff) return reply.redirect(next, 303);
    return render(request, reply, 'sign-in', { title: 'Sign in', next, login: '', problem: null });
  });

  app.post('/sign-in', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const login = String(body.login ?? '').trim();
    const password = String(body.password ?? '');
    const next = safeNext(body.next);
    const member = login && password.length <= MAX_PASSWORD_LENGTH ? await staffForSignIn(pool, login) : undefined;
    // Guessing is slowed down before any password is checked (billing/sign-in-throttle.ts): a
    // member's failures count together whether their id or their email was typed.
    const counted = member ? throttledLogin(member.id) : throttledLogin(login);
    const address = request.ip;
    const blockedUntil = signInBlockedUntil(await recentSignInFailures(pool, counted, address, SIGN_IN_WINDOW_MINUTES));
    if (blockedUntil !== undefined) {
      reply.header('Retry-After', String(Math.max(1, Math.ceil((blockedUntil - Date.now()) / 1000))));
      return render(request, reply.code(429), 'sign-in', { title: 'Sign in', next, login, problem: signInBlockedText(blockedUntil) });
    }
    // One answer for an unknown login, a wrong password, no password, and a deactivated member.
    const matches = await passwordMatches(member?.passwordHash ?? null, password);
    if (!member || !matches || !member.active) {
      await recordSignInFailure(pool, counted, address);
      return render(request, reply.code(401), 'sign-in', { title: 'Sign in', next, login, problem: 'That id or email and password do not match an active staff member.' });
    }
    await clearSignInFailures(pool, [counted]);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000);
    await createConsoleSession(pool, { tokenSha256: sha256(token), staffId: member.id, expiresAt });
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true, expires: expiresAt });
    return reply.redirect(next, 303);
  });

  app.post('/sign-out', async (request, reply) => {
    const token = sessionToken(request);
    if (token) await endConsoleSession(pool, sha256(token));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in', 303);
  });
}

function sessionToken(request: FastifyRequest): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

async function signedIn(request: FastifyRequest, pool: Pool, trustHeader: string | undefined, isProxy: ProxyTrust): Promise<ConsoleStaff | undefined> {
  if (trustHeader) {
    const named = request.headers[trustHeader];
    // Honoured only from a trusted proxy's address (BILLING_CONSOLE_TRUSTED_PROXIES); the proxy strips it from clients.
    if (typeof named === 'string' && named.trim() !== '' && isProxy(request.socket.remoteAddress)) {
      const member = await staffForSignIn(pool, named.trim());
      if (member?.active) {
        request.viaProxy = true;
        return { id: member.id, name: member.name, email: member.email, role: member.role };
      }
      return undefined;
    }
  }
  const token = sessionToken(request);
  return token ? staffOfSession(pool, sha256(token)) : undefined;
}

/** A route's guard: the member's role must allow it, or the page says what their role may do. */
export function requirePermission(permission: StaffPermission) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.staff && mayDo(request.staff.role, permission)) return;
    const what = { decide: 'decide requests and cases', 'read-closes': 'see month closes', 'read-policies': 'see policy versions' }[permission as string] ?? permission;
    await render(request, reply.code(403), 'error', {
      title: 'Not for your role',
      message: `Your role (${request.staff?.role}) may not ${what}: ask a ${permission === 'decide' ? 'support' : 'billing-ops'} colleague.`,
    });
  };
}
