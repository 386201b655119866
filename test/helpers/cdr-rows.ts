/**
 * Reads the hand-written CDR fixtures (test/fixtures/cdr) the way the importer reads a file
 * (db/usage-import.ts): csv-parse with raw rows and line numbers, skipping records it
 * cannot parse (which the importer reports as rejects), and runs them through a reader.
 */
import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import type { CdrReader, CdrRecord, ReadResult } from '../../billing/cdr/types';

export const CDR_FIXTURES = path.join(__dirname, '..', 'fixtures', 'cdr');

export interface FixtureRow {
  fields: string[];
  line: number;
  raw: string;
}

/** A record csv-parse skipped: the importer's "unreadable CSV" reject. */
export interface UnreadableRow {
  line: number;
  code: string;
}

export interface CsvReadOptions {
  /** The importer trims left for FreeSWITCH, whose default template writes `, "…"`. */
  ltrim?: boolean;
  relaxQuotes?: boolean;
}

export function fixtureText(name: string): string {
  return fs.readFileSync(path.join(CDR_FIXTURES, name), 'utf8');
}

export function parseCsvRows(text: string, options: CsvReadOptions = {}): { rows: FixtureRow[]; unreadable: UnreadableRow[] } {
  const unreadable: UnreadableRow[] = [];
  const parsed = parse(text, {
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: options.relaxQuotes ?? false,
    skip_empty_lines: true,
    ltrim: options.ltrim ?? false,
    skip_records_with_error: true,
    on_skip: (error) => {
      unreadable.push({ line: (error as { lines?: number } | undefined)?.lines ?? 0, code: error?.code ?? 'unknown' });
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number }; raw: string }[];
  const rows = parsed.map((item) => ({ fields: item.record, line: item.info.lines, raw: item.raw.replace(/\r?\n$/, '') }));
  return { rows, unreadable };
}

export function readFixture(name: string, options: CsvReadOptions = {}): { rows: FixtureRow[]; unreadable: UnreadableRow[] } {
  return parseCsvRows(fixtureText(name), options);
}

/** Every result the reader gives for the rows, pushes then flush, in the order it gave them. */
export function runReader(reader: CdrReader, rows: FixtureRow[]): ReadResult[] {
  const results: ReadResult[] = [];
  for (const row of rows) results.push(...reader.push(row.fields, row.line, row.raw));
  results.push(...reader.flush());
  return results;
}

/** What became of one row, in a word: "counted 332", a not-counted reason, or "rejected: why". */
export function outcomeOf(result: ReadResult): string {
  if (!result.ok) return `rejected: ${result.reason}`;
  const { record } = result;
  return record.counted ? `counted ${record.billableSeconds}` : record.notCountedReason!;
}

/** Outcomes by line; fails if a line came out twice, so that nothing is counted twice unseen. */
export function outcomesByLine(results: ReadResult[]): Record<number, string> {
  const outcomes: Record<number, string> = {};
  for (const result of results) {
    const line = result.ok ? result.record.line : result.line;
    if (line in outcomes) throw new Error(`line ${line} came out twice: ${outcomes[line]} and ${outcomeOf(result)}`);
    outcomes[line] = outcomeOf(result);
  }
  return outcomes;
}

export function recordAt(results: ReadResult[], line: number): CdrRecord {
  const found = results.find((r) => r.ok && r.record.line === line);
  if (!found || !found.ok) throw new Error(`no record for line ${line}`);
  return found.record;
}
