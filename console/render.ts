/** Renders a page (console/views, Eta through @fastify/view) with what every page shows: the member, their role's links, a CSRF token. */
import type {} from '@fastify/csrf-protection';
import type {} from '@fastify/view';
import type { FastifyReply, FastifyRequest } from 'fastify';
import path from 'node:path';
import { formatMinutes } from '../billing/emails';
import { formatCents, formatMicros } from '../billing/money';
import { mayDo } from '../billing/staff-roles';
import { formatAge } from '../client/commands/limit';
import { PROJECT_ROOT } from '../config';

/** The templates and static files stay in the sources (like db/migrations): compiled into dist/console, this reads them from console/. */
export const VIEWS_DIR = path.join(PROJECT_ROOT, 'console', 'views');
export const PUBLIC_DIR = path.join(PROJECT_ROOT, 'console', 'public');

/** What the templates format numbers with: the CLI's own formatting. */
export const FORMAT = {
  cents: (cents: number, currency?: string): string => `${formatCents(Number(cents))}${currency ? ` ${currency}` : ''}`,
  micros: formatMicros,
  minutes: (seconds: number): string => formatMinutes(Number(seconds)),
  age: formatAge,
  thousands: (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','),
  time: formatTime,
};

/** A moment as staff read it, to the minute in UTC (`2026-12-02 14:04 UTC`); other text as it is. */
export function formatTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  const ms = value instanceof Date ? value.getTime() : /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return String(value);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export async function render(request: FastifyRequest, reply: FastifyReply, template: string, data: Record<string, unknown>): Promise<FastifyReply> {
  const staff = request.staff;
  const may = (permission: Parameters<typeof mayDo>[1]): boolean => staff !== undefined && mayDo(staff.role, permission);
  const partial = request.headers['hx-request'] === 'true' && data.partial === true;
  return reply.type('text/html; charset=utf-8').view(`${template}.eta`, {
    ...data,
    staff,
    viaProxy: request.viaProxy === true,
    csrf: reply.generateCsrf(),
    may,
    f: FORMAT,
    partial,
  });
}
