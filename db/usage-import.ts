/**
 * Usage import (DESIGN, "Usage import rules"): streams a CDR file (plain or .gz) through the
 * format's reader, attributes each record to its subscribers, and writes batches through
 * CdrStore (COPY + one set-based insert). Never the whole file in memory; bad rows go to a rejects
 * file with line and reason while the good rows land; rows already imported add nothing.
 */
import { hash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { CountryCode } from 'libphonenumber-js';
import type { Pool } from 'pg';
import { billableStartMs, partiesOf, segmentsFor, type Directory, type Party } from '../billing/cdr/attribution';
import { splitCsvLine } from '../billing/cdr/csv-line';
import { detectFormat } from '../billing/cdr/detect';
import { UsageCsvReader } from '../billing/cdr/own-formats';
import { createReader } from '../billing/cdr/readers';
import { DEFAULT_SOURCE, DEFAULT_VOICEMAIL_NUMBERS, type CdrFormat, type CdrRecord, type ReadResult } from '../billing/cdr/types';
import { CdrStore, keyText, StagingBatch, type BatchResult } from './cdr-store';
import { loadDirectory } from './directory';
import { DEFAULT_IMPORT_BATCH_ROWS, DEFAULT_IMPORT_EARLIEST, DEFAULT_IMPORT_MAX_FUTURE_HOURS } from '../config';
import { withinCallDates, type CallDateBounds } from '../billing/cdr/call-dates';

export class ImportInputError extends Error {}

export interface ImportOptions {
  file: string;
  format?: CdrFormat;
  /** Zone of the file's time stamps (they carry none). */
  timezone: string;
  /** The switch the records come from, part of each record's key; default DEFAULT_SOURCE, never the file's name. */
  source?: string;
  /** Asterisk optional columns, for the ambiguous column counts. */
  columns?: string[];
  voicemailNumbers?: string[];
  /** Feature-code patterns (billing/cdr/types.ts, ReaderOptions.featureCodes); default DEFAULT_FEATURE_CODES. */
  featureCodes?: string[];
  /** Country of numbers written without a country code (billing/numbers.ts); default BILLING_DEFAULT_COUNTRY (US). */
  country?: CountryCode;
  rejectsFile?: string;
  /** The subscribers and numbers to attribute with, when the caller loaded them already (a collector's pages). */
  directory?: Directory;
  batchSize?: number;
  /**
   * Dates a call may have; default 2000-01-01 to 24 h after now (BILLING_IMPORT_EARLIEST,
   * BILLING_IMPORT_MAX_FUTURE_HOURS). `nowMs`: the time the import is made at, default the clock's
   * (the time-travel demo imports at its simulated time, months ahead).
   */
  callDates?: { earliestDay?: string; maxFutureHours?: number; nowMs?: number };
  /**
   * Rows from elsewhere than a file (a collector's page of a switch's cdr table): text in the
   * format's layout, one row a line. `file` then only names them (usage_imports.file), and
   * `format` is required.
   */
  input?: Readable;
  /** Called after each batch is handed to the database; the import waits for a returned promise. */
  onProgress?: (progress: ImportProgress) => void | Promise<void>;
}

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  rowsRead: number;
}

export interface ImportSummary {
  importId: number;
  file: string;
  format: CdrFormat;
  source: string;
  rowsRead: number;
  records: number;
  counted: number;
  notCounted: Record<string, number>;
  duplicates: number;
  unmatched: number;
  unmatchedNumbers: { number: string; records: number }[];
  late: number;
  rejected: number;
  rejectsFile: string | null;
  /** Subscriber and month of every call that landed, for usage alerts. */
  touched: { subscriberId: string; period: string }[];
}

/**
 * A stable key from the record's source and content (DESIGN, "Idempotence"), written as a uuid:
 * 48 bits of the call's start time, then 80 bits of the md5 of source and row. Starting with the
 * time keeps an import's inserts together at the end of the index instead of all over it.
 */
export function recordKey(source: string, raw: string, startMs: number): string {
  return keyText(keyTime(startMs), rowDigest(source, raw));
}

/** The md5 of the source and row, in hex: a key's part that is not time. */
function rowDigest(source: string, raw: string): string {
  return hash('md5', `${source}\u0000${raw}`);
}

/** The time a key carries: the low 48 bits of the whole milliseconds, never negative. */
function keyTime(startMs: number): number {
  const t = Math.max(0, Math.floor(startMs));
  return (Math.floor(t / 4_294_967_296) & 0xffff) * 4_294_967_296 + (t >>> 0);
}

/**
 * Read in 64 KiB chunks: each chunk is parsed without yielding, and between chunks the event loop
 * streams the batches in flight to PostgreSQL. With 1 MiB chunks the database waited for that
 * stream: a million rows took 9 s instead of 7 (`npm run bench -- import`).
 */
function openStream(file: string): { stream: Readable; raw: fs.ReadStream } {
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  return { raw, stream: file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw };
}

async function firstLine(file: string): Promise<string> {
  const { stream, raw } = openStream(file);
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line.trim() !== '') return line;
    return '';
  } catch (error) {
    throw new ImportInputError(`${file} cannot be read: ${(error as Error).message}`);
  } finally {
    lines.close();
    raw.destroy();
  }
}

export async function importUsageFile(pool: Pool, options: ImportOptions): Promise<ImportSummary> {
  const { file, timezone } = options;
  const source = options.source ?? DEFAULT_SOURCE;
  if (!options.input && (!fs.existsSync(file) || !fs.statSync(file).isFile())) throw new ImportInputError(`file ${file} does not exist`);
  let format = options.format;
  if (!format && options.input) throw new ImportInputError(`${file}: rows not read from a file need their format`);
  if (!format) {
    const detected = detectFormat(await firstLine(file), file.replace(/\.gz$/, ''));
    if (typeof detected !== 'string') throw new ImportInputError(`${file}: ${detected.error}`);
    format = detected;
  }
  const readerOptions = { timezone, columns: options.columns, voicemailNumbers: options.voicemailNumbers ?? DEFAULT_VOICEMAIL_NUMBERS, featureCodes: options.featureCodes };
  const callDates: CallDateBounds = {
    earliestDay: options.callDates?.earliestDay ?? DEFAULT_IMPORT_EARLIEST,
    maxFutureHours: options.callDates?.maxFutureHours ?? DEFAULT_IMPORT_MAX_FUTURE_HOURS,
    nowMs: options.callDates?.nowMs ?? Date.now(),
  };
  let reader = format === 'csv' ? undefined : withinCallDates(createReader(format, readerOptions), callDates);
  const directory = options.directory ?? (await loadDirectory(pool, { country: options.country }));
  const store = await CdrStore.open(pool, { source, file, format, timezone });
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH_ROWS;
  const rejectsPath = options.rejectsFile ?? `${file.replace(/\.gz$/, '')}.rejects.csv`;
  const summary: ImportSummary = {
    importId: store.importId,
    file,
    format,
    source,
    rowsRead: 0,
    records: 0,
    counted: 0,
    notCounted: {},
    duplicates: 0,
    unmatched: 0,
    unmatchedNumbers: [],
    late: 0,
    rejected: 0,
    rejectsFile: null,
    touched: [],
  };
  const touched = new TouchedMonths();
  const unmatchedNumbers = new Map<string, number>();
  let rejects: fs.WriteStream | undefined;
  const reject = (line: number, raw: string, reason: string): void => {
    if (!rejects) {
      rejects = fs.createWriteStream(rejectsPath);
      rejects.write('line,reason,row\n');
      summary.rejectsFile = rejectsPath;
    }
    rejects.write(`${line},${csvField(reason)},${csvField(raw)}\n`);
    summary.rejected += 1;
  };

  let batch = store.newBatch();
  const keysInBatch = new BatchKeys(batchSize);
  const inFlight: Promise<void>[] = [];
  // Records in batches that are committed, for a file that turns out cut short.
  let committedRecords = 0;
  const absorb = (result: BatchResult): void => {
    committedRecords += result.staged;
    summary.duplicates += result.staged - result.inserted;
    summary.late += result.lateCalls;
  };
  // Batches are cut at exactly batchSize records as lines are read, and written once the chunk
  // in hand is done: up to store.concurrency of them in the database while the next is read.
  const ready: StagingBatch[] = [];
  const cutBatch = (): void => {
    if (batch.records > 0) ready.push(batch);
    batch = store.newBatch();
    keysInBatch.clear();
  };
  const writeReady = async (): Promise<void> => {
    for (let full = ready.shift(); full; full = ready.shift()) {
      if (inFlight.length >= store.concurrency) await inFlight.shift();
      inFlight.push(store.writeBatch(full).then(absorb));
      await options.onProgress?.({ bytesRead: raw.bytesRead, totalBytes, rowsRead: summary.rowsRead });
    }
  };

  // Where a party's share of a record lands: the month when it lies in one (derived from the
  // record in SQL), or null after staging one call row per month it spans.
  const shareOf = (record: CdrRecord, time: number, digest: string, party: Party, direction: 'outgoing' | 'incoming'): string | null => {
    const single = party.months.singleMonth(billableStartMs(record), record.billableSeconds);
    if (single !== undefined) {
      touched.note(party, single);
      return single;
    }
    const segments = segmentsFor(record, party);
    const key = keyText(time, digest);
    segments.forEach((segment, index) => {
      touched.note(party, segment.period);
      batch.addCall({
        key,
        subscriberId: party.subscriberId,
        direction,
        segment: index,
        period: segment.period,
        startedMs: segment.startMs,
        billableSeconds: segment.seconds,
        counted: record.counted,
        notCountedReason: record.notCountedReason,
        callSeconds: record.billableSeconds,
        finalSegment: index === segments.length - 1,
      });
    });
    return null;
  };

  const accept = (record: CdrRecord): void => {
    summary.records += 1;
    if (record.counted) summary.counted += 1;
    else summary.notCounted[record.notCountedReason!] = (summary.notCounted[record.notCountedReason!] ?? 0) + 1;
    const time = keyTime(record.startMs);
    const digest = rowDigest(source, record.raw);
    if (!keysInBatch.add(time, digest)) {
      summary.duplicates += 1;
      return;
    }
    const { caller, callee } = partiesOf(record, directory);
    if (caller === undefined && callee === undefined) {
      summary.unmatched += 1;
      noteUnmatched(record, unmatchedNumbers);
    }
    const callerPeriod = caller ? shareOf(record, time, digest, caller, 'outgoing') : null;
    const calleePeriod = callee ? shareOf(record, time, digest, callee, 'incoming') : null;
    batch.addRecord(record, { time, digest }, caller?.subscriberId ?? null, callee?.subscriberId ?? null, callerPeriod, calleePeriod);
    if (batch.records >= batchSize) cutBatch();
  };
  const take = (results: ReadResult[]): void => {
    for (const result of results) {
      if (result.ok) accept(result.record);
      else reject(result.line, result.raw, result.reason);
    }
  };

  // FreeSWITCH substitutes values without escaping, so a caller name with a quote still reads.
  const relaxQuotes = format === 'freeswitch';
  const readLine = (text: string, line: number): void => {
    const rawLine = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    if (rawLine.length === 0) return;
    let fields: string[];
    // One JSON document a line: our jsonl, or mod_json_cdr's (cJSON writes each on one line).
    if (format === 'jsonl' || format === 'freeswitch-json') fields = [rawLine];
    else {
      const split = splitCsvLine(rawLine, relaxQuotes);
      if (!split.ok) {
        summary.rowsRead += 1;
        reject(line, rawLine, `unreadable CSV: ${split.reason}`);
        return;
      }
      fields = split.fields;
    }
    if (!reader) {
      // Our headed csv is read by its header; every other format by position.
      const problem = UsageCsvReader.checkHeader(fields);
      if (problem) throw new ImportInputError(`${file}: ${problem}`);
      reader = withinCallDates(new UsageCsvReader({ ...readerOptions, header: fields }), callDates);
      return;
    }
    summary.rowsRead += 1;
    take(reader.push(fields, line, rawLine));
  };

  const { stream, raw } = options.input ? { stream: options.input, raw: { bytesRead: 0 } } : openStream(file);
  stream.setEncoding('utf8');
  const totalBytes = options.input ? 0 : fs.statSync(file).size;
  try {
    // Lines are handled synchronously a chunk at a time; only whole batches wait for the database.
    let rest = '';
    let line = 0;
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        line += 1;
        readLine(text.slice(start, nl), line);
        start = nl + 1;
      }
      rest = text.slice(start);
      await writeReady();
    }
    if (rest.length > 0) readLine(rest, line + 1);
    if (reader) take(reader.flush());
    cutBatch();
    await writeReady();
    await Promise.all(inFlight);
    await options.onProgress?.({ bytesRead: totalBytes, totalBytes, rowsRead: summary.rowsRead });
  } catch (error) {
    await Promise.allSettled(inFlight);
    if ((error as { code?: string }).code === 'Z_DATA_ERROR' || (error as { code?: string }).code === 'Z_BUF_ERROR') {
      // The batches read before the damage are committed (each is one transaction): say so, and
      // that the whole file imported again adds only the rest (every record has its key).
      const landed = committedRecords === 0 ? 'no record of it was imported' : `the first ${committedRecords} call records of it are imported and committed`;
      throw new ImportInputError(
        `${file} is not a whole gzip file (${(error as Error).message}): ${landed}; run the import again with the whole file to add the rest (records already imported are not counted twice)`,
      );
    }
    throw error;
  } finally {
    store.release();
    await new Promise<void>((resolve) => (rejects ? rejects.end(resolve) : resolve()));
  }
  summary.touched = touched.list();

  summary.unmatchedNumbers = [...unmatchedNumbers.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([number, count]) => ({ number, records: count }));
  // The months touched are kept with the import: its follow-up (`usage-import-<id>`) queues their alerts from them.
  await store.finish({ ...summary, touched: summary.touched.length, monthsTouched: byPeriod(summary.touched) });
  return summary;
}

/** Subscribers by month, the compact form an import's touched months are kept in (`usage_imports.summary`). */
function byPeriod(touched: { subscriberId: string; period: string }[]): Record<string, string[]> {
  const months: Record<string, string[]> = {};
  for (const t of touched) (months[t.period] ??= []).push(t.subscriberId);
  return months;
}

/**
 * The subscriber months an import's calls landed in, for its usage alerts: undefined when the
 * import does not exist, `unfinished` when it stopped before its end (it is run again, as a new import).
 */
export async function monthsTouchedByImport(pool: Pool, importId: number): Promise<{ subscriberId: string; period: string }[] | 'unfinished' | undefined> {
  const { rows } = await pool.query(`SELECT finished_at, summary -> 'monthsTouched' AS months FROM usage_imports WHERE id = $1`, [importId]);
  if (!rows[0]) return undefined;
  if (rows[0].finished_at === null) return 'unfinished';
  const months = (rows[0].months ?? {}) as Record<string, string[]>;
  return Object.entries(months).flatMap(([period, ids]) => ids.map((subscriberId) => ({ subscriberId, period })));
}

/** The value of `count` (at most 7) hex digits of text from `at`. */
function hexValue(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) {
    const c = text.charCodeAt(i);
    value = value * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return value;
}

/**
 * The keys of the batch being gathered, so a row repeated within it is counted a duplicate there
 * (the set-based insert takes each key once). An open-addressing table of the key's time and the
 * 80 bits of its digest in typed arrays: a batch's keys are numbers, not strings the garbage
 * collector would have to carry until the batch is written.
 */
class BatchKeys {
  private readonly mask: number;
  private readonly used: Uint8Array;
  private readonly times: Float64Array;
  private readonly digestParts: Int32Array;

  constructor(batchSize: number) {
    let size = 1024;
    while (size < batchSize * 2) size *= 2;
    this.mask = size - 1;
    this.used = new Uint8Array(size);
    this.times = new Float64Array(size);
    this.digestParts = new Int32Array(size * 3);
  }

  /** Adds the key of `time` and `digest` (see keyText); false when the batch has it already. */
  add(time: number, digest: string): boolean {
    const a = hexValue(digest, 0, 7);
    const b = hexValue(digest, 7, 7);
    const c = hexValue(digest, 14, 6);
    for (let slot = a & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.times[slot] = time;
        this.digestParts[slot * 3] = a;
        this.digestParts[slot * 3 + 1] = b;
        this.digestParts[slot * 3 + 2] = c;
        return true;
      }
      if (this.times[slot] === time && this.digestParts[slot * 3] === a && this.digestParts[slot * 3 + 1] === b && this.digestParts[slot * 3 + 2] === c) return false;
    }
  }

  clear(): void {
    this.used.fill(0);
  }
}

/** The months each subscriber had calls in (for usage alerts): usually one, so no set until a second. */
class TouchedMonths {
  private readonly months = new Map<Party, string | Set<string>>();

  note(party: Party, period: string): void {
    const held = this.months.get(party);
    if (held === period) return;
    if (held === undefined) this.months.set(party, period);
    else if (typeof held === 'string') this.months.set(party, new Set([held, period]));
    else held.add(period);
  }

  list(): { subscriberId: string; period: string }[] {
    return [...this.months].flatMap(([party, held]) => (typeof held === 'string' ? [held] : [...held]).map((period) => ({ subscriberId: party.subscriberId, period })));
  }
}

const UNMATCHED_NUMBERS_KEPT = 1000;
function noteUnmatched(record: CdrRecord, counts: Map<string, number>): void {
  const number = record.subscriberId ?? record.accountCode ?? record.callingNumber ?? record.calledNumber ?? '(none)';
  if (counts.has(number) || counts.size < UNMATCHED_NUMBERS_KEPT) counts.set(number, (counts.get(number) ?? 0) + 1);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export type { Directory };
