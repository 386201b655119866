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
import type { Pool } from 'pg';
import { attribute, segmentsFor, type Directory } from '../billing/cdr/attribution';
import { splitCsvLine } from '../billing/cdr/csv-line';
import { detectFormat } from '../billing/cdr/detect';
import { UsageCsvReader } from '../billing/cdr/own-formats';
import { createReader } from '../billing/cdr/readers';
import { DEFAULT_VOICEMAIL_NUMBERS, type CdrFormat, type CdrRecord, type ReadResult } from '../billing/cdr/types';
import { CdrStore, StagingBatch, type BatchResult, type StagedRecord } from '../db/cdr-store';
import { loadDirectory } from '../db/directory';

export class ImportInputError extends Error {}

export interface ImportOptions {
  file: string;
  format?: CdrFormat;
  /** Zone of the file's time stamps (they carry none). */
  timezone: string;
  source: string;
  /** Asterisk optional columns, for the ambiguous column counts. */
  columns?: string[];
  voicemailNumbers?: string[];
  rejectsFile?: string;
  batchSize?: number;
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
  const h = hash('md5', `${source}\u0000${raw}`);
  const t = Math.max(0, Math.floor(startMs)).toString(16).padStart(12, '0').slice(-12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8, 20)}`;
}

function openStream(file: string): { stream: Readable; raw: fs.ReadStream } {
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
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
  const { file, timezone, source } = options;
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new ImportInputError(`file ${file} does not exist`);
  let format = options.format;
  if (!format) {
    const detected = detectFormat(await firstLine(file), file.replace(/\.gz$/, ''));
    if (typeof detected !== 'string') throw new ImportInputError(`${file}: ${detected.error}`);
    format = detected;
  }
  const readerOptions = { timezone, columns: options.columns, voicemailNumbers: options.voicemailNumbers ?? DEFAULT_VOICEMAIL_NUMBERS };
  let reader = format === 'csv' ? undefined : createReader(format, readerOptions);
  const directory = await loadDirectory(pool);
  const store = await CdrStore.open(pool, { source, file, format, timezone });
  const batchSize = options.batchSize ?? 10_000;
  const rejectsPath = options.rejectsFile ?? `${file.replace(/\.gz$/, '')}.rejects.csv`;
  const summary: ImportSummary = {
    importId: store.importId, file, format, source, rowsRead: 0, records: 0, counted: 0, notCounted: {}, duplicates: 0,
    unmatched: 0, unmatchedNumbers: [], late: 0, rejected: 0, rejectsFile: null, touched: [],
  };
  const touched = new Map<string, Set<string>>(); // subscriber → months, without a string per call
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

  let batch = new StagingBatch();
  let keysInBatch = new Set<string>();
  const inFlight: Promise<void>[] = [];
  const absorb = (result: BatchResult): void => {
    summary.duplicates += result.staged - result.inserted;
    summary.late += result.lateCalls;
  };
  // Batches are cut at exactly batchSize records as lines are read, and written once the chunk
  // in hand is done: up to store.concurrency of them in the database while the next is read.
  const ready: StagingBatch[] = [];
  const cutBatch = (): void => {
    if (batch.records > 0) ready.push(batch);
    batch = new StagingBatch();
    keysInBatch = new Set();
  };
  const writeReady = async (): Promise<void> => {
    for (let full = ready.shift(); full; full = ready.shift()) {
      if (inFlight.length >= store.concurrency) await inFlight.shift();
      inFlight.push(store.writeBatch(full).then(absorb));
      await options.onProgress?.({ bytesRead: raw.bytesRead, totalBytes, rowsRead: summary.rowsRead });
    }
  };

  const accept = (record: CdrRecord): void => {
    summary.records += 1;
    if (record.counted) summary.counted += 1;
    else summary.notCounted[record.notCountedReason!] = (summary.notCounted[record.notCountedReason!] ?? 0) + 1;
    const key = recordKey(source, record.raw, record.startMs);
    if (keysInBatch.has(key)) {
      summary.duplicates += 1;
      return;
    }
    keysInBatch.add(key);
    const sides = attribute(record, directory);
    if (sides.length === 0) {
      summary.unmatched += 1;
      noteUnmatched(record, unmatchedNumbers);
    }
    // A share within one month is derived from the record in SQL; only split shares are staged.
    let callerPeriod: string | null = null;
    let calleePeriod: string | null = null;
    for (const side of sides) {
      const segments = segmentsFor(record, directory.timezoneOf(side.subscriberId)!);
      if (segments.length === 1) {
        if (side.direction === 'outgoing') callerPeriod = segments[0]!.period;
        else calleePeriod = segments[0]!.period;
      } else {
        segments.forEach((segment, index) => batch.addCall({
          key, subscriberId: side.subscriberId, direction: side.direction, segment: index, period: segment.period,
          startedMs: segment.startMs, billableSeconds: segment.seconds, counted: record.counted, notCountedReason: record.notCountedReason,
        }));
      }
      let months = touched.get(side.subscriberId);
      if (!months) touched.set(side.subscriberId, (months = new Set()));
      for (const segment of segments) months.add(segment.period);
    }
    batch.addRecord(stage(record, key, sides, callerPeriod, calleePeriod));
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
    if (format === 'jsonl') fields = [rawLine];
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
      reader = new UsageCsvReader({ ...readerOptions, header: fields });
      return;
    }
    summary.rowsRead += 1;
    take(reader.push(fields, line, rawLine));
  };

  const { stream, raw } = openStream(file);
  stream.setEncoding('utf8');
  const totalBytes = fs.statSync(file).size;
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
      throw new ImportInputError(`${file} is not a valid gzip file: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    store.release();
    await new Promise<void>((resolve) => (rejects ? rejects.end(resolve) : resolve()));
  }
  summary.touched = [...touched].flatMap(([subscriberId, months]) => [...months].map((period) => ({ subscriberId, period })));

  summary.unmatchedNumbers = [...unmatchedNumbers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([number, count]) => ({ number, records: count }));
  await store.finish({ ...summary, touched: summary.touched.length });
  return summary;
}

function stage(record: CdrRecord, key: string, sides: { subscriberId: string; direction: string }[], callerPeriod: string | null, calleePeriod: string | null): StagedRecord {
  const caller = sides.find((s) => s.direction === 'outgoing')?.subscriberId ?? null;
  const callee = sides.find((s) => s.direction === 'incoming')?.subscriberId ?? null;
  return {
    key, line: record.line, startedMs: record.startMs, answeredMs: record.answerMs, billableSeconds: record.billableSeconds,
    callingNumber: record.callingNumber, calledNumber: record.calledNumber, accountCode: record.accountCode,
    namedSubscriberId: record.subscriberId ?? null, namedDirection: record.direction ?? null,
    counted: record.counted, notCountedReason: record.notCountedReason, callerSubscriberId: caller, calleeSubscriberId: callee,
    callerPeriod, calleePeriod,
  };
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
