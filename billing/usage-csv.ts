/**
 * Our own headed CSV of usage (`--format csv`), one call per row:
 *   subscriber,start,answer_seconds,direction,kind
 * start: when the call was answered, "YYYY-MM-DD HH:MM:SS" (or ISO 8601); without a zone it is
 * read in the import's --timezone. direction: outgoing|incoming. kind: call (counted) or
 * voicemail|unanswered|feature (kept, not counted: DESIGN, "what does not").
 */
import { DateTime } from 'luxon';
import { createHash } from 'node:crypto';

export const USAGE_CSV_COLUMNS = ['subscriber', 'start', 'answer_seconds', 'direction', 'kind'] as const;
export const USAGE_KINDS = ['call', 'voicemail', 'unanswered', 'feature'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

export interface UsageRecord {
  subscriberId: string;
  startMs: number;
  seconds: number;
  direction: 'outgoing' | 'incoming';
  kind: UsageKind;
  counted: boolean;
  notCountedReason: string | null;
}

export type ParsedRow = { ok: true; record: UsageRecord } | { ok: false; reason: string };

const DIRECTIONS: Record<string, 'outgoing' | 'incoming'> = { outgoing: 'outgoing', out: 'outgoing', incoming: 'incoming', in: 'incoming' };

export function checkHeader(header: string[]): string | undefined {
  const missing = USAGE_CSV_COLUMNS.filter((c) => !header.includes(c));
  return missing.length > 0 ? `the header lacks column(s) ${missing.join(', ')}; expected ${USAGE_CSV_COLUMNS.join(',')}` : undefined;
}

export function parseTimestamp(text: string, zone: string): number | undefined {
  const trimmed = text.trim();
  const iso = trimmed.includes('T') ? trimmed : trimmed.replace(' ', 'T');
  const parsed = DateTime.fromISO(iso, { zone, setZone: false });
  return parsed.isValid ? parsed.toMillis() : undefined;
}

export function parseUsageRow(row: Record<string, string>, zone: string): ParsedRow {
  const subscriberId = (row.subscriber ?? '').trim();
  if (!subscriberId) return { ok: false, reason: 'subscriber is empty' };
  const startMs = parseTimestamp(row.start ?? '', zone);
  if (startMs === undefined) return { ok: false, reason: `start "${row.start}" is not a time like 2026-10-05 14:30:00` };
  const secondsText = (row.answer_seconds ?? '').trim();
  if (!/^\d+$/.test(secondsText)) return { ok: false, reason: `answer_seconds "${row.answer_seconds}" is not a whole number of seconds ≥ 0` };
  const seconds = Number(secondsText);
  if (seconds > 7 * 24 * 3600) return { ok: false, reason: `answer_seconds ${seconds} is longer than a week` };
  const direction = DIRECTIONS[(row.direction ?? '').trim().toLowerCase()];
  if (!direction) return { ok: false, reason: `direction "${row.direction}" is not outgoing or incoming` };
  const kind = (row.kind ?? '').trim().toLowerCase() as UsageKind;
  if (!USAGE_KINDS.includes(kind)) return { ok: false, reason: `kind "${row.kind}" is not one of ${USAGE_KINDS.join(', ')}` };
  const counted = kind === 'call';
  return { ok: true, record: { subscriberId, startMs, seconds, direction, kind, counted, notCountedReason: counted ? null : kind } };
}

/** A row's stable identity: its source and content, so re-imports and overlapping files add nothing. */
export function recordKey(source: string, r: UsageRecord): string {
  return createHash('sha256').update([source, r.subscriberId, r.startMs, r.seconds, r.direction, r.kind].join('|')).digest('base64url').slice(0, 32);
}
