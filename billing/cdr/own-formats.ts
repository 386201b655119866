/**
 * Our own usage formats, which name the subscriber and the direction outright (DESIGN, "billing
 * usage import … --format csv|jsonl"):
 *
 * - csv, with a header: `subscriber,start,answer_seconds,direction,kind`
 * - jsonl, one object per line: {"subscriber": "…", "start": "2026-10-05 14:30:00", "answer_seconds": 123,
 *   "direction": "outgoing", "kind": "call"}
 *
 * start is when the call was answered: "YYYY-MM-DD HH:MM:SS" read in the import's zone, or ISO
 * 8601 with or without a zone. kind is call (counted) or voicemail, unanswered, feature (kept, not
 * counted: DESIGN, "What does not"). The rules are those of ../usage-csv.ts (parseUsageRow), kept
 * here once for both formats.
 */
import { LocalTimeReader } from '../local-time';
import { shownValue } from '../validation';
import { parseTimestamp, USAGE_CSV_COLUMNS, USAGE_KINDS, type UsageKind } from './usage-columns';
import { parseSeconds } from './switch-row';
import type { CdrFormat, CdrReader, CdrRecord, NotCountedReason, ReaderOptions, ReadResult } from './types';

const NOT_COUNTED_BY_KIND: Readonly<Record<UsageKind, NotCountedReason | null>> = {
  call: null,
  voicemail: 'voicemail-deposit',
  unanswered: 'unanswered',
  feature: 'not-a-call',
};

const DIRECTIONS: Readonly<Record<string, 'outgoing' | 'incoming'>> = { outgoing: 'outgoing', out: 'outgoing', incoming: 'incoming', in: 'incoming' };

const WEEK_SECONDS = 7 * 24 * 3600;

/** One fast reader per zone: parseJsonlLine is a plain function, called once per line. */
const clocks = new Map<string, LocalTimeReader>();
function clockFor(timezone: string): LocalTimeReader {
  let clock = clocks.get(timezone);
  if (clock === undefined) {
    clock = new LocalTimeReader(timezone);
    clocks.set(timezone, clock);
  }
  return clock;
}

/** A value as a person would recognise it in a reason. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : shownValue(value);
}

/** "YYYY-MM-DD HH:MM:SS" through the fast reader; anything else with a time part (an ISO zone, say) through luxon. */
function readStart(text: string, timezone: string): number | undefined {
  const trimmed = text.trim();
  const fast = clockFor(timezone).read(trimmed);
  if (fast !== undefined) return fast;
  const separator = trimmed.charAt(10);
  return separator === 'T' || separator === ' ' ? parseTimestamp(trimmed, timezone) : undefined;
}

function readSeconds(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : -1;
  return typeof value === 'string' ? parseSeconds(value.trim()) : -1;
}

/** The five values of a usage row, checked, as a record; the same rules for csv and jsonl. */
function usageResult(
  format: CdrFormat,
  line: number,
  raw: string,
  timezone: string,
  subscriber: unknown,
  start: unknown,
  answerSeconds: unknown,
  direction: unknown,
  kind: unknown,
): ReadResult {
  const problem = (reason: string): ReadResult => ({ ok: false, line, raw, reason });
  if (typeof subscriber !== 'string') return problem(`subscriber ${shown(subscriber)} is not a subscriber id (a string)`);
  const subscriberId = subscriber.trim();
  if (subscriberId === '') return problem('subscriber is empty');
  const startMs = typeof start === 'string' ? readStart(start, timezone) : undefined;
  if (startMs === undefined) return problem(`start ${shown(start)} is not a time like 2026-10-05 14:30:00 (or ISO 8601)`);
  const seconds = readSeconds(answerSeconds);
  if (seconds < 0) return problem(`answer_seconds ${shown(answerSeconds)} is not a whole number of seconds ≥ 0`);
  if (seconds > WEEK_SECONDS) return problem(`answer_seconds ${seconds} is longer than a week`);
  const towards = typeof direction === 'string' ? DIRECTIONS[direction.trim().toLowerCase()] : undefined;
  if (towards === undefined) return problem(`direction ${shown(direction)} is not outgoing or incoming`);
  const usageKind = typeof kind === 'string' ? USAGE_KINDS.find((k) => k === kind.trim().toLowerCase()) : undefined;
  if (usageKind === undefined) return problem(`kind ${shown(kind)} is not one of ${USAGE_KINDS.join(', ')}`);
  const reason = NOT_COUNTED_BY_KIND[usageKind];
  const record: CdrRecord = {
    format,
    line,
    raw,
    startMs,
    // An unanswered attempt has no answer time; every other kind starts when it was answered.
    answerMs: usageKind === 'unanswered' ? null : startMs,
    endMs: startMs + seconds * 1000,
    billableSeconds: seconds,
    callingNumber: null,
    calledNumber: null,
    accountCode: null,
    counted: reason === null,
    notCountedReason: reason,
    subscriberId,
    direction: towards,
  };
  return { ok: true, record };
}

/** A header cell as written by hand or by a spreadsheet (byte-order mark, spaces, capitals). */
function headerName(cell: string): string {
  return cell
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();
}

function isHeaderRow(fields: string[]): boolean {
  const names = fields.map(headerName);
  return names.includes('subscriber') && names.includes('answer_seconds');
}

export interface UsageCsvReaderOptions extends ReaderOptions {
  /** The file's header row; without it, columns are taken in the documented order. */
  header?: string[];
}

/**
 * The headed csv. push() takes data rows; the header is given to the constructor (check it first
 * with checkHeader). If the header is not given, a first pushed row that is a header is taken as it.
 */
export class UsageCsvReader implements CdrReader {
  /** Why a header row cannot be read, naming the missing columns; undefined when it can. */
  static checkHeader(header: string[]): string | undefined {
    const names = header.map(headerName);
    const missing = USAGE_CSV_COLUMNS.filter((column) => !names.includes(column));
    if (missing.length === 0) return undefined;
    return `the header lacks column(s) ${missing.join(', ')}: expected ${USAGE_CSV_COLUMNS.join(',')} (got ${header.join(',') || 'an empty line'})`;
  }

  private readonly timezone: string;
  private positions: number[];
  private width: number;
  private expectingHeader: boolean;

  constructor(options: UsageCsvReaderOptions) {
    this.timezone = options.timezone;
    clockFor(options.timezone); // an unknown zone fails here, not on the first row
    this.positions = [...USAGE_CSV_COLUMNS.keys()];
    this.width = USAGE_CSV_COLUMNS.length;
    this.expectingHeader = options.header === undefined;
    if (options.header !== undefined) {
      const problem = UsageCsvReader.checkHeader(options.header);
      if (problem !== undefined) throw new RangeError(problem);
      this.useHeader(options.header);
    }
  }

  push(fields: string[], line: number, raw: string): ReadResult[] {
    if (this.expectingHeader) {
      this.expectingHeader = false;
      if (isHeaderRow(fields)) {
        const problem = UsageCsvReader.checkHeader(fields);
        if (problem !== undefined) return [{ ok: false, line, raw, reason: problem }];
        this.useHeader(fields);
        return [];
      }
    }
    if (fields.length !== this.width) {
      return [{ ok: false, line, raw, reason: `wrong number of columns: ${fields.length} (expected ${this.width}, as in the header)` }];
    }
    const [subscriber, start, answerSeconds, direction, kind] = this.positions as [number, number, number, number, number];
    return [usageResult('csv', line, raw, this.timezone, fields[subscriber], fields[start], fields[answerSeconds], fields[direction], fields[kind])];
  }

  flush(): ReadResult[] {
    return [];
  }

  private useHeader(header: string[]): void {
    const names = header.map(headerName);
    this.positions = USAGE_CSV_COLUMNS.map((column) => names.indexOf(column));
    this.width = header.length;
  }
}

/** One line of a jsonl usage file. Blank lines are the caller's to skip; given one, it is reported. */
export function parseJsonlLine(text: string, line: number, timezone: string): ReadResult {
  if (text.trim() === '') return { ok: false, line, raw: text, reason: 'empty line (expected a JSON object)' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, line, raw: text, reason: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, line, raw: text, reason: `not a JSON object: ${shown(value)}` };
  }
  const row = value as Record<string, unknown>;
  return usageResult('jsonl', line, text, timezone, row.subscriber, row.start, row.answer_seconds, row.direction, row.kind);
}
