/**
 * Usage import (DESIGN, "Usage import rules"): streams a CDR file (plain or .gz) through the
 * format's reader, attributes each record to its subscribers, and writes batches through
 * CdrStore (COPY + one set-based insert). Never the whole file in memory; bad rows go to a rejects
 * file with line and reason while the good rows land; rows already imported add nothing.
 */
import { parse, type CsvError } from 'csv-parse';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Pool } from 'pg';
import { attribute, segmentsFor, type Directory } from '../billing/cdr/attribution';
import { detectFormat } from '../billing/cdr/detect';
import { UsageCsvReader } from '../billing/cdr/own-formats';
import { createReader } from '../billing/cdr/readers';
import { DEFAULT_VOICEMAIL_NUMBERS, type CdrFormat, type CdrRecord, type ReadResult } from '../billing/cdr/types';
import { CdrStore, type BatchResult, type StagedCall, type StagedRecord } from '../db/cdr-store';
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
  onProgress?: (progress: ImportProgress) => void;
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

/** A stable key from the record's source and content: md5 written as a uuid. */
export function recordKey(source: string, raw: string): string {
  const h = createHash('md5').update(source).update('\u0000').update(raw).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function openStream(file: string): { stream: Readable; raw: fs.ReadStream } {
  const raw = fs.createReadStream(file);
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

async function* rows(stream: Readable, format: CdrFormat, onBadRecord: (line: number, raw: string, reason: string) => void): AsyncGenerator<{ fields: string[]; line: number; raw: string }> {
  if (format === 'jsonl') {
    let line = 0;
    for await (const text of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() !== '') yield { fields: [text], line, raw: text };
    }
    return;
  }
  const parser = stream.pipe(parse({
    info: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    // FreeSWITCH's default template writes `, "${accountcode}"`, and it substitutes values
    // without escaping, so a caller name with a quote still reads as one field.
    ltrim: format === 'freeswitch',
    relax_quotes: format === 'freeswitch',
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      onBadRecord((error as { lines?: number } | undefined)?.lines ?? 0, (raw ?? '').trimEnd(), `unreadable CSV: ${error?.message ?? 'bad record'}`);
      return undefined;
    },
  }));
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
    yield { fields: item.record, line: item.info.lines, raw: item.raw.replace(/\r?\n$/, '') };
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
  // Our headed csv is read by its header; every other format by position.
  let reader = format === 'csv' ? undefined : createReader(format, readerOptions);
  const directory = await loadDirectory(pool);
  const store = await CdrStore.open(pool, { source, file, format, timezone });
  const batchSize = options.batchSize ?? 20_000;
  const rejectsPath = options.rejectsFile ?? `${file.replace(/\.gz$/, '')}.rejects.csv`;
  const summary: ImportSummary = {
    importId: store.importId, file, format, source, rowsRead: 0, records: 0, counted: 0, notCounted: {}, duplicates: 0,
    unmatched: 0, unmatchedNumbers: [], late: 0, rejected: 0, rejectsFile: null, touched: [],
  };
  const touched = new Set<string>();
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

  let records: StagedRecord[] = [];
  let calls: StagedCall[] = [];
  let keysInBatch = new Set<string>();
  let inFlight: Promise<void> = Promise.resolve();
  const absorb = (result: BatchResult): void => {
    summary.duplicates += result.staged - result.inserted;
    summary.unmatched += result.unmatched;
    summary.late += result.lateCalls;
    for (const t of result.touched) touched.add(`${t.subscriberId}\u0000${t.period}`);
  };
  const dispatch = async (): Promise<void> => {
    const batch = { records, calls };
    records = [];
    calls = [];
    keysInBatch = new Set();
    await inFlight; // one batch in the database while the next is read
    inFlight = store.writeBatch(batch.records, batch.calls).then(absorb);
  };

  const accept = (record: CdrRecord): void => {
    summary.records += 1;
    if (record.counted) summary.counted += 1;
    else summary.notCounted[record.notCountedReason!] = (summary.notCounted[record.notCountedReason!] ?? 0) + 1;
    const key = recordKey(source, record.raw);
    if (keysInBatch.has(key)) {
      summary.duplicates += 1;
      return;
    }
    keysInBatch.add(key);
    const sides = attribute(record, directory);
    if (sides.length === 0) noteUnmatched(record, unmatchedNumbers);
    records.push(stage(record, key, sides));
    for (const side of sides) {
      segmentsFor(record, directory.timezoneOf(side.subscriberId)!).forEach((segment, index) => {
        calls.push({
          key, subscriberId: side.subscriberId, direction: side.direction, segment: index, period: segment.period,
          startedMs: segment.startMs, billableSeconds: segment.seconds, counted: record.counted, notCountedReason: record.notCountedReason,
        });
      });
    }
  };
  const take = (results: ReadResult[]): void => {
    for (const result of results) {
      if (result.ok) accept(result.record);
      else reject(result.line, result.raw, result.reason);
    }
  };

  const { stream, raw } = openStream(file);
  const totalBytes = fs.statSync(file).size;
  try {
    // Rows csv-parse cannot read never reach the reader: they are read, and rejected.
    const unreadable = (line: number, rawRow: string, reason: string): void => {
      summary.rowsRead += 1;
      reject(line, rawRow, reason);
    };
    for await (const row of rows(stream, format, unreadable)) {
      if (!reader) {
        const problem = UsageCsvReader.checkHeader(row.fields);
        if (problem) throw new ImportInputError(`${file}: ${problem}`);
        reader = new UsageCsvReader({ ...readerOptions, header: row.fields });
        continue;
      }
      summary.rowsRead += 1;
      take(reader.push(row.fields, row.line, row.raw));
      if (records.length >= batchSize) {
        await dispatch();
        options.onProgress?.({ bytesRead: raw.bytesRead, totalBytes, rowsRead: summary.rowsRead });
      }
    }
    if (reader) take(reader.flush());
    await dispatch();
    await inFlight;
    options.onProgress?.({ bytesRead: totalBytes, totalBytes, rowsRead: summary.rowsRead });
  } catch (error) {
    await inFlight.catch(() => undefined);
    if ((error as { code?: string }).code === 'Z_DATA_ERROR' || (error as { code?: string }).code === 'Z_BUF_ERROR') {
      throw new ImportInputError(`${file} is not a valid gzip file: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    store.release();
    await new Promise<void>((resolve) => (rejects ? rejects.end(resolve) : resolve()));
  }
  summary.touched = [...touched].map((t) => {
    const [subscriberId, period] = t.split('\u0000') as [string, string];
    return { subscriberId, period };
  });
  summary.unmatchedNumbers = [...unmatchedNumbers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([number, count]) => ({ number, records: count }));
  await store.finish({ ...summary, touched: summary.touched.length });
  return summary;
}

function stage(record: CdrRecord, key: string, sides: { subscriberId: string; direction: string }[]): StagedRecord {
  const caller = sides.find((s) => s.direction === 'outgoing')?.subscriberId ?? null;
  const callee = sides.find((s) => s.direction === 'incoming')?.subscriberId ?? null;
  return {
    key, line: record.line, startedMs: record.startMs, answeredMs: record.answerMs, billableSeconds: record.billableSeconds,
    callingNumber: record.callingNumber, calledNumber: record.calledNumber, accountCode: record.accountCode,
    namedSubscriberId: record.subscriberId ?? null, namedDirection: record.direction ?? null,
    counted: record.counted, notCountedReason: record.notCountedReason, callerSubscriberId: caller, calleeSubscriberId: callee,
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
