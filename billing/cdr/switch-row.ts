/**
 * What the Asterisk and FreeSWITCH readers share: reading a row's times and second counts, and
 * the voicemail access numbers. Written for the import target (DESIGN, "Targets": 100,000 rows a
 * second on 2 cores): no regexes, no luxon and no allocation per row beyond what the row needs.
 */
import { LocalTimeReader } from '../local-time';
import { DEFAULT_FEATURE_CODES, DEFAULT_VOICEMAIL_NUMBERS, type CdrFormat, type CdrRecord, type NotCountedReason, type ReaderOptions } from './types';

/** The whole number of seconds written in text, or -1 when text is not plain digits. */
export function parseSeconds(text: string): number {
  const length = text.length;
  // Ten digits would be over 300 years: no call lasts that long, and it keeps the sum exact.
  if (length === 0 || length > 9) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * What an answered row to a number is, when it is not a call (DESIGN, "What does not"): a
 * voicemail access number (retrieval) or a feature code. Both are the source's settings
 * (`--voicemail-numbers`, `--feature-codes`), with defaults.
 */
export class ServiceNumbers {
  private readonly voicemail: ReadonlySet<string>;
  /** Whether some voicemail entry names a context (`s@vm-menu`): only then is dst@context built. */
  private readonly voicemailContexts: boolean;
  private readonly featureCode: RegExp | undefined;

  constructor(options: Pick<ReaderOptions, 'voicemailNumbers' | 'featureCodes'>) {
    const voicemail = options.voicemailNumbers ?? DEFAULT_VOICEMAIL_NUMBERS;
    for (const entry of voicemail) {
      if (entry.trim() === '' || entry.startsWith('@') || entry.endsWith('@')) {
        throw new RangeError(`voicemail number "${entry}" is empty or has an empty side: write NUMBER or EXT@CONTEXT, e.g. *98 or s@vm-menu`);
      }
    }
    this.voicemail = new Set(voicemail);
    this.voicemailContexts = voicemail.some((entry) => entry.includes('@'));
    const patterns = options.featureCodes ?? DEFAULT_FEATURE_CODES;
    this.featureCode = patterns.length === 0 ? undefined : new RegExp(patterns.map(featureCodeSource).join('|'));
  }

  /** An access number of voicemail, as dialled (`*98`) or as the menu's extension in its context. */
  isVoicemail(number: string, context: string): boolean {
    return this.voicemail.has(number) || (this.voicemailContexts && this.voicemail.has(`${number}@${context}`));
  }

  isFeatureCode(number: string): boolean {
    return this.featureCode !== undefined && number !== '' && this.featureCode.test(number);
  }
}

const PATTERN_HELP =
  'an Asterisk pattern (_*7X, _*72.: X any digit, Z 1-9, N 2-9, [1-5] a class, "." one or more, "!" zero or more), a regular expression starting with ^, or an exact number';

/** One feature-code pattern as an anchored regular expression's source (see ReaderOptions.featureCodes). */
export function featureCodeSource(pattern: string): string {
  if (pattern === '') throw new RangeError(`feature code "" is empty: give ${PATTERN_HELP}`);
  if (pattern.startsWith('^')) {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new RangeError(`feature code "${pattern}" is not a regular expression (${(error as Error).message}): give ${PATTERN_HELP}`);
    }
    return `(?:${pattern})`;
  }
  if (!pattern.startsWith('_')) return `(?:^${escapeRegExp(pattern)}$)`;
  let source = '';
  for (let i = 1; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    const upper = c.toUpperCase();
    if (upper === 'X') source += '[0-9]';
    else if (upper === 'Z') source += '[1-9]';
    else if (upper === 'N') source += '[2-9]';
    else if (c === '.') source += '.+';
    else if (c === '!') source += '.*';
    else if (c === '[') {
      const close = pattern.indexOf(']', i);
      const inside = close < 0 ? '' : pattern.slice(i + 1, close);
      if (!/^(?:[0-9]-[0-9]|[0-9*#])+$/.test(inside)) {
        throw new RangeError(`feature code "${pattern}" has a bad class at "${pattern.slice(i)}": give ${PATTERN_HELP}`);
      }
      source += `[${inside}]`;
      i = close;
    } else if (/[0-9*#+]/.test(c)) source += escapeRegExp(c);
    else throw new RangeError(`feature code "${pattern}" has "${c}", which an Asterisk pattern does not: give ${PATTERN_HELP}`);
  }
  return `(?:^${source}$)`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The pairing window's default size in rows: see PairingWindow. */
export const DEFAULT_PAIRING_WINDOW = 5000;

export function checkPairingWindow(size: number | undefined): number {
  if (size === undefined) return DEFAULT_PAIRING_WINDOW;
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`pairing window ${size} is not a whole number of rows ≥ 0 (default ${DEFAULT_PAIRING_WINDOW})`);
  }
  return size;
}

const TIME_EXAMPLE = 'a time like 2026-10-05 14:30:00';

/**
 * A switch row's times, read in the file's zone and checked. One instance per reader, refilled by
 * every row, so that reading a row allocates nothing; the reader copies the values into its record.
 */
export class CallTimes {
  startMs = 0;
  answerMs: number | null = null;
  endMs = 0;
  billableSeconds = 0;
  private readonly clock: LocalTimeReader;

  /**
   * @param billsecSlackSeconds how far billsec may exceed duration. Asterisk truncates duration
   * but, with `initiatedseconds=yes`, rounds billsec up (cdr-formats §1), so a call answered at
   * once can show billsec = duration + 1; FreeSWITCH computes both from whole seconds (slack 0).
   */
  constructor(
    timezone: string,
    private readonly billsecSlackSeconds: number,
  ) {
    this.clock = new LocalTimeReader(timezone);
  }

  /**
   * Reads one row's times into this object. Returns why the row cannot be read, naming the value,
   * or undefined. An empty answer stamp means the call was never answered (Asterisk writes an
   * unquoted empty field, FreeSWITCH `""`: cdr-formats §1 and §2).
   */
  read(start: string, answer: string, end: string, duration: string, billsec: string): string | undefined {
    const startMs = this.clock.read(start);
    if (startMs === undefined) return `start time "${start}" is not ${TIME_EXAMPLE}`;
    let answerMs: number | null = null;
    if (answer !== '') {
      const read = this.clock.read(answer);
      if (read === undefined) return `answer time "${answer}" is not ${TIME_EXAMPLE} (nor empty, for a call never answered)`;
      answerMs = read;
    }
    const endMs = this.clock.read(end);
    if (endMs === undefined) return `end time "${end}" is not ${TIME_EXAMPLE}`;
    const durationSeconds = parseSeconds(duration);
    if (durationSeconds < 0) return `duration "${duration}" is not a whole number of seconds ≥ 0`;
    const billableSeconds = parseSeconds(billsec);
    if (billableSeconds < 0) return `billsec "${billsec}" is not a whole number of seconds ≥ 0`;
    if (endMs < startMs) return `end ${end} is before start ${start}`;
    if (billableSeconds > durationSeconds + this.billsecSlackSeconds) {
      return `billsec ${billableSeconds} is greater than duration ${durationSeconds}`;
    }
    this.startMs = startMs;
    this.answerMs = answerMs;
    this.endMs = endMs;
    this.billableSeconds = billableSeconds;
    return undefined;
  }
}

/** A call leg's times, as CallTimes reads them from a row (or the JSON reader from its epochs). */
export type LegTimes = Pick<CallTimes, 'startMs' | 'answerMs' | 'endMs' | 'billableSeconds'>;

/** A switch row's record, from its times (just read by CallTimes) and its parties. */
export function switchRecord(
  format: CdrFormat,
  line: number,
  raw: string,
  times: LegTimes,
  parties: { callingNumber: string | null; calledNumber: string | null; accountCode: string | null },
  reason: NotCountedReason | null,
): CdrRecord {
  return {
    format,
    line,
    raw,
    startMs: times.startMs,
    answerMs: times.answerMs,
    endMs: times.endMs,
    billableSeconds: times.billableSeconds,
    ...parties,
    counted: reason === null,
    notCountedReason: reason,
  };
}
