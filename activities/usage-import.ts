/**
 * Streams a usage file into PostgreSQL in batches: never the whole file in memory; bad rows go to
 * a rejects file with their line and reason while the good rows land; rows already imported are
 * skipped by their stable key.
 */
import { parse, type CsvError } from 'csv-parse';
import fs from 'node:fs';
import type { Pool } from 'pg';
import { splitAtMonthBoundaries } from '../billing/periods';
import { checkHeader, parseUsageRow, recordKey, type UsageRecord } from '../billing/usage-csv';
import { insertCallSegments, type CallSegmentRow } from '../db/usage';

export interface ImportSummary {
  file: string;
  rowsRead: number;
  counted: number;
  notCounted: Record<string, number>;
  duplicates: number;
  rejected: number;
  rejectsFile: string | null;
  segmentsInserted: number;
}

export class ImportInputError extends Error {}

const BATCH_ROWS = 5_000;

export async function importUsageCsv(pool: Pool, options: { file: string; timezone: string; source: string; rejectsFile?: string }): Promise<ImportSummary> {
  const { file, timezone, source } = options;
  if (!fs.existsSync(file)) throw new ImportInputError(`file ${file} does not exist`);
  const rejectsPath = options.rejectsFile ?? `${file}.rejects.csv`;
  let rejects: fs.WriteStream | undefined;
  const summary: ImportSummary = { file, rowsRead: 0, counted: 0, notCounted: {}, duplicates: 0, rejected: 0, rejectsFile: null, segmentsInserted: 0 };
  const zones = await subscriberZones(pool);

  const reject = (line: number, reason: string, raw: string): void => {
    if (!rejects) {
      rejects = fs.createWriteStream(rejectsPath);
      rejects.write('line,reason,row\n');
      summary.rejectsFile = rejectsPath;
    }
    rejects.write(`${line},${csvField(reason)},${csvField(raw)}\n`);
    summary.rejected += 1;
  };

  let batch: { record: UsageRecord; zone: string }[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows: CallSegmentRow[] = [];
    for (const { record, zone } of batch) {
      const key = recordKey(source, record);
      splitAtMonthBoundaries(record.startMs, record.seconds, zone).forEach((segment, index) => {
        rows.push({
          recordKey: key, subscriberId: record.subscriberId, segment: index, period: segment.period,
          startedAtMs: segment.startMs, billableSeconds: segment.seconds, direction: record.direction,
          counted: record.counted, notCountedReason: record.notCountedReason, source,
        });
      });
    }
    const inserted = await insertCallSegments(pool, rows);
    summary.segmentsInserted += inserted;
    summary.duplicates += rows.length - inserted;
    batch = [];
  };

  const parser = fs.createReadStream(file).pipe(
    parse({
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined, raw: string | undefined) => {
        const line = (error as { lines?: number } | undefined)?.lines ?? 0;
        reject(line, `unreadable CSV: ${error?.message ?? 'bad record'}`, (raw ?? '').trimEnd());
        return undefined;
      },
    }),
  );

  let header: string[] | undefined;
  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      if (!header) {
        header = record.map((h) => h.trim().toLowerCase());
        const problem = checkHeader(header);
        if (problem) throw new ImportInputError(`${file}: ${problem}`);
        continue;
      }
      summary.rowsRead += 1;
      const line = info.lines;
      if (record.length !== header.length) {
        reject(line, `wrong number of columns: ${record.length} instead of ${header.length}`, raw.trimEnd());
        continue;
      }
      const parsed = parseUsageRow(Object.fromEntries(header.map((name, i) => [name, record[i]!])), timezone);
      if (!parsed.ok) {
        reject(line, parsed.reason, raw.trimEnd());
        continue;
      }
      const zone = zones.get(parsed.record.subscriberId);
      if (!zone) {
        reject(line, `subscriber "${parsed.record.subscriberId}" is not registered`, raw.trimEnd());
        continue;
      }
      if (parsed.record.counted) summary.counted += 1;
      else summary.notCounted[parsed.record.kind] = (summary.notCounted[parsed.record.kind] ?? 0) + 1;
      batch.push({ record: parsed.record, zone });
      if (batch.length >= BATCH_ROWS) await flush();
    }
    await flush();
  } catch (error) {
    if (error instanceof ImportInputError) throw error;
    const csvError = error as { code?: string; lines?: number; message: string };
    if (csvError.code?.startsWith('CSV_')) {
      throw new ImportInputError(`${file} line ${csvError.lines ?? '?'}: ${csvError.message}`);
    }
    throw error;
  } finally {
    await new Promise<void>((resolve) => (rejects ? rejects.end(resolve) : resolve()));
  }
  return summary;
}

async function subscriberZones(pool: Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query('SELECT id, timezone FROM subscribers');
  return new Map(rows.map((r) => [r.id as string, r.timezone as string]));
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
