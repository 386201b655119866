/**
 * Our own headed CSV of usage (`--format csv`), one call per row:
 *   subscriber,start,answer_seconds,direction,kind
 * start: when the call was answered, "YYYY-MM-DD HH:MM:SS" (or ISO 8601); without a zone it is
 * read in the import's --timezone. direction: outgoing|incoming. kind: call (counted) or
 * voicemail|unanswered|feature (kept, not counted: DESIGN, "what does not").
 */
import { DateTime } from 'luxon';

export const USAGE_CSV_COLUMNS = ['subscriber', 'start', 'answer_seconds', 'direction', 'kind'] as const;
export const USAGE_KINDS = ['call', 'voicemail', 'unanswered', 'feature'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

export function parseTimestamp(text: string, zone: string): number | undefined {
  const trimmed = text.trim();
  const iso = trimmed.includes('T') ? trimmed : trimmed.replace(' ', 'T');
  const parsed = DateTime.fromISO(iso, { zone, setZone: false });
  return parsed.isValid ? parsed.toMillis() : undefined;
}
