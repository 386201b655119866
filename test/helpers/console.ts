/**
 * The support console in a test: the app of console/server.ts on a free port against a test's
 * database and Temporal server, and a browser-less client that keeps its cookies as a browser
 * does (fetch, over HTTP), reads a page's CSRF token and posts forms.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { hashPassword } from '../../client/passwords';
import { loadConfig } from '../../config';
import type { StaffRole } from '../../billing/staff-roles';
import { buildConsole, listenConsole, type RunningConsole } from '../../console/server';

export async function startTestConsole(options: { databaseUrl: string; pool: Pool; client: Client; env?: Record<string, string> }): Promise<RunningConsole> {
  const config = loadConfig({ DATABASE_URL: options.databaseUrl, ...options.env });
  const app = await buildConsole({
    config,
    pool: options.pool,
    temporal: () => Promise.resolve(options.client),
    namespace: 'default',
    secret: 'test-console-secret-of-at-least-32-characters',
  });
  return listenConsole(app, '127.0.0.1', 0);
}

export async function givenStaff(pool: Pool, member: { id: string; role?: StaffRole; password?: string; active?: boolean }): Promise<void> {
  await pool.query('INSERT INTO support_staff (id, email, role, password_hash, active) VALUES ($1, $2, $3, $4, $5)', [
    member.id,
    `${member.id}@staff.test`,
    member.role ?? 'support',
    member.password ? await hashPassword(member.password) : null,
    member.active ?? true,
  ]);
}

export interface Page {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

/** One browser: its cookies, kept across requests, and no redirect followed (the test reads them). */
export class ConsoleBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.request('GET', path, undefined, headers);
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    return this.request('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  /** The CSRF token of the forms of a page this browser opens. */
  async csrfToken(path = '/sign-in'): Promise<string> {
    const page = await this.get(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path} (${page.status}): ${page.body.slice(0, 200)}`);
    return token;
  }

  async signIn(login: string, password: string): Promise<Page> {
    return this.post('/sign-in', { _csrf: await this.csrfToken(), login, password, next: '/' });
  }

  private async request(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Page> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${this.base}${path}`, { method, body, redirect: 'manual', headers: { ...headers, ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers };
  }
}
