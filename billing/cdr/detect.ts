/**
 * Which format a usage file is in, from its name and first line, for `billing usage import`
 * without --format. Switch files have no header (cdr-formats §1, §2), so for them the number of
 * fields, and whether every one is quoted, is all there is to go on.
 */
import type { CdrFormat } from './types';

const FREESWITCH_COUNTS = [13, 15]; // default and example templates, every field quoted
const ASTERISK_MIN_COUNT = 16; // base columns
const ASTERISK_MAX_COUNT = 21; // with uniqueid, userfield and newcdrcolumns

const FORMATS_EXPECTED =
  'expected Asterisk cdr_csv (16 to 21 fields), FreeSWITCH cdr_csv (13 or 15 fields, all quoted), ' +
  'FreeSWITCH mod_json_cdr documents (one a line), ' +
  'our csv (a header with subscriber and answer_seconds) or jsonl (one JSON object per line); ' +
  'pass --format asterisk|freeswitch|freeswitch-json|csv|jsonl';

export interface CsvFieldScan {
  count: number;
  /** Every field opens with a quote (after spaces: FreeSWITCH's default template writes `, "…"`). */
  allQuoted: boolean;
}

/** Counts the CSV fields of one line, honouring quotes (`""` inside a quoted field is a quote). */
export function scanCsvFields(line: string): CsvFieldScan {
  const length = line.length;
  let count = 1;
  let allQuoted = true;
  let at = 0;
  for (;;) {
    while (at < length && line[at] === ' ') at += 1;
    if (line[at] === '"') {
      at = closingQuoteAfter(line, at) + 1;
    } else {
      allQuoted = false;
    }
    while (at < length && line[at] !== ',') at += 1; // an unquoted field, or junk after a closing quote
    if (at >= length) return { count, allQuoted };
    count += 1;
    at += 1;
  }
}

/** Position of the quote closing the field opened at `open`, or the line's length if unclosed. */
function closingQuoteAfter(line: string, open: number): number {
  let at = open + 1;
  while (at < line.length) {
    if (line[at] === '"') {
      if (line[at + 1] !== '"') return at;
      at += 2;
    } else {
      at += 1;
    }
  }
  return line.length;
}

function isUsageHeader(line: string): boolean {
  const names = line.split(',').map((cell) => cell.trim().replace(/^"|"$/g, '').toLowerCase());
  return names.includes('subscriber') && names.includes('answer_seconds');
}

/**
 * A mod_json_cdr document opens with `{"core-uuid":…,"switchname":…,"channel_data":…` (cJSON,
 * unformatted, one line); our jsonl never names these.
 */
function isFreeswitchJsonCdr(line: string): boolean {
  return line.startsWith('{') && line.includes('"core-uuid"') && line.includes('"channel_data"');
}

export function detectFormat(firstLine: string, fileName: string): CdrFormat | { error: string } {
  const name = fileName.toLowerCase();
  const line = firstLine.replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (isFreeswitchJsonCdr(line.trimStart())) return 'freeswitch-json';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (line.trimStart().startsWith('{')) return 'jsonl';
  if (isUsageHeader(line)) return 'csv';
  if (line.trim() === '') return { error: `the first line is empty; ${FORMATS_EXPECTED}` };
  const { count, allQuoted } = scanCsvFields(line);
  if (FREESWITCH_COUNTS.includes(count)) {
    if (allQuoted) return 'freeswitch';
    return { error: `the first line has ${count} fields, not all of them quoted; ${FORMATS_EXPECTED}` };
  }
  if (count >= ASTERISK_MIN_COUNT && count <= ASTERISK_MAX_COUNT) return 'asterisk';
  return { error: `the first line has ${count} field${count === 1 ? '' : 's'}; ${FORMATS_EXPECTED}` };
}
