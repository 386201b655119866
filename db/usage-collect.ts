/**
 * What a collector (`usage-collector-<source>`, issue 14) reads, through the same importer as
 * `billing usage import` (db/usage-import.ts: keys, attribution, splits, late marking, rejects):
 *
 * - asterisk-db: the switch's `cdr` table (Asterisk cdr_pgsql), in pages ordered by calldate and
 *   the md5 of the row, from the source's watermark less its safety window: a row that commits
 *   late (a long call is written when it ends, with the calldate it started at) is still read, and
 *   rows read again add nothing (each has its key). Each page is one import; the watermark moves
 *   once the page is committed, so a worker killed mid-page reads that page again, to no effect.
 * - spool: files that appear in a folder, each imported once settled (its size and time the same
 *   across two looks; `.tmp` and `.part` names and dot files are never read), then moved to done/
 *   or, when it cannot be read (a broken gzip, an unknown layout), to failed/ with the reason
 *   beside it in NAME.error.txt. A file dropped twice imports the second time as duplicates.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import { Client, type Pool } from 'pg';
import { redactUrl } from '../config';
import { ASTERISK_OPTIONAL_COLUMNS } from '../billing/cdr/asterisk';
import { CDR_FORMATS } from '../billing/cdr/readers';
import type { CdrFormat } from '../billing/cdr/types';
import { ImportInputError, importUsageFile, type ImportOptions, type ImportSummary } from './usage-import';
import { loadDirectory } from './directory';
import { recordCollected, type UsageSource } from './usage-sources';

/** The format of a spool of FreeSWITCH mod_json_cdr documents, one call a file. */
export const FREESWITCH_JSON_FORMAT = 'freeswitch-json';

/**
 * Whether this version's importer reads the format. `freeswitch-json` (a mod_json_cdr document, one
 * line of JSON, per file) comes with its reader (branch i14-json: the importer reads a file of such
 * documents one a line, so a spool's file of one document goes through it as it is); until then a
 * spool's such files go to failed/ saying so.
 */
export function importerReads(format: string): format is CdrFormat {
  return (CDR_FORMATS as string[]).includes(format);
}

/** The importer's settings of a source: the same for `usage import --source` and its collector. */
export function importSettingsOf(
  source: Pick<UsageSource, 'name' | 'format' | 'timezone' | 'country' | 'voicemailNumbers' | 'featureCodes' | 'columns'>,
  defaultCountry: string,
): Omit<ImportOptions, 'file'> {
  return {
    source: source.name,
    format: importerReads(source.format) ? source.format : undefined,
    timezone: source.timezone,
    country: (source.country ?? defaultCountry) as CountryCode,
    columns: source.columns ?? undefined,
    voicemailNumbers: source.voicemailNumbers ?? undefined,
    featureCodes: source.featureCodes ?? undefined,
  };
}

export interface CollectContext {
  pool: Pool;
  defaultCountry: string;
  /** Rows before and after an import: `billing usage import`'s options (batch size, call dates). */
  importOptions?: Partial<ImportOptions>;
  /** After each import has committed: hand its usage alerts over (`usage-import-<id>`). */
  onImported: (summary: ImportSummary) => Promise<void>;
  heartbeat: (details?: unknown) => void;
  /** Where an asterisk-db source's rejected rows go (default: the system's temporary folder). */
  rejectsDir?: string;
}

export interface CollectLimits {
  /** asterisk-db: rows a page (default 50,000). */
  pageRows?: number;
  /** Stop after this long and say there is more (default 4 minutes). */
  maxSeconds?: number;
  /** spool: the time between the two looks at a file's size (default 2 s). */
  settleMs?: number;
}

export interface CollectOutcome {
  rows: number;
  records: number;
  rejected: number;
  duplicates: number;
  imports: number[];
  filesDone: number;
  filesFailed: number;
  failedFiles: { file: string; reason: string }[];
  /** When the run began reading what turned out to be the end: set once it read everything there was. */
  caughtUpAt: Date | null;
  more: boolean;
}

const emptyOutcome = (): CollectOutcome => ({
  rows: 0,
  records: 0,
  rejected: 0,
  duplicates: 0,
  imports: [],
  filesDone: 0,
  filesFailed: 0,
  failedFiles: [],
  caughtUpAt: null,
  more: false,
});

export class SwitchUnreachableError extends Error {}

const IDENTIFIER = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
export function tableProblem(table: string): string | undefined {
  return IDENTIFIER.test(table) ? undefined : `must be a table name like cdr or asterisk.cdr (lower case letters, digits, _)`;
}

const REQUIRED_COLUMNS = [
  'calldate',
  'clid',
  'src',
  'dst',
  'dcontext',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'duration',
  'billsec',
  'disposition',
  'amaflags',
  'accountcode',
];

/** A text column as cdr_csv writes it: quoted, quotes doubled; line breaks (never in a real row) made spaces. */
const quoted = (expression: string): string => `'"' || replace(translate(coalesce((${expression})::text, ''), E'\\r\\n', '  '), '"', '""') || '"'`;

/**
 * The row's line in cdr_csv's layout with all five optional columns (21 columns): the Asterisk
 * reader classifies it as it does Master.csv. The cdr table has only the calldate: the answer
 * time is the end less billsec (for an ANSWERED row), the end the calldate plus duration.
 */
function lineExpression(present: Set<string>, t = ''): string {
  const stamp = (e: string): string => `to_char(${e}, 'YYYY-MM-DD HH24:MI:SS')`;
  const seconds = (e: string): string => `(${e}) * interval '1 second'`;
  const optional = (c: string): string => (present.has(c) ? quoted(`${t}${c}`) : `'""'`);
  const fields = [
    quoted(`${t}accountcode`),
    quoted(`${t}src`),
    quoted(`${t}dst`),
    quoted(`${t}dcontext`),
    quoted(`${t}clid`),
    quoted(`${t}channel`),
    quoted(`${t}dstchannel`),
    quoted(`${t}lastapp`),
    quoted(`${t}lastdata`),
    quoted(stamp(`${t}calldate`)),
    `CASE WHEN ${t}disposition = 'ANSWERED' THEN ${quoted(stamp(`${t}calldate + ${seconds(`GREATEST(coalesce(${t}duration, 0) - coalesce(${t}billsec, 0), 0)`)}`))} ELSE '""' END`,
    quoted(stamp(`${t}calldate + ${seconds(`coalesce(${t}duration, 0)`)}`)),
    `coalesce(${t}duration::text, '')`,
    `coalesce(${t}billsec::text, '')`,
    quoted(`${t}disposition`),
    quoted(`${t}amaflags`),
    ...ASTERISK_OPTIONAL_COLUMNS.map(optional),
  ];
  return fields.join(` || ',' || `);
}

/** Connects to the switch's database in the source's zone; a failure names the database with its password redacted. */
async function connectSwitch(source: UsageSource): Promise<Client> {
  const client = new Client({ connectionString: source.dsn!, connectionTimeoutMillis: 10_000, application_name: 'redconnect-billing-collector' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`SELECT set_config('timezone', $1, false), set_config('statement_timeout', '120s', false)`, [source.timezone]);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new SwitchUnreachableError(`the switch database of source ${source.name} (${redactUrl(source.dsn!)}) cannot be reached: ${(error as Error).message}`);
  }
}

/** The page query of a cdr table: its calldate's type and which optional columns it has. */
async function pageQuery(client: Client, source: UsageSource): Promise<string> {
  const table = source.table!;
  const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : [null, table];
  const { rows } = await client.query(
    `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type
       FROM information_schema.columns c
       JOIN pg_attribute a ON a.attrelid = to_regclass($3) AND a.attname = c.column_name
      WHERE c.table_name = $1 AND ($2::text IS NULL AND c.table_schema = ANY (current_schemas(false)) OR c.table_schema = $2)`,
    [name, schema, table],
  );
  const columns = new Map(rows.map((r) => [r.column_name as string, r.type as string]));
  if (columns.size === 0) throw new SwitchUnreachableError(`source ${source.name}: the switch database has no table ${table} (or this role may not read it): grant SELECT on it`);
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length > 0) throw new SwitchUnreachableError(`source ${source.name}: table ${table} lacks the cdr_pgsql columns ${missing.join(', ')}`);
  const type = columns.get('calldate')!;
  if (!/^timestamp/.test(type)) throw new SwitchUnreachableError(`source ${source.name}: ${table}.calldate is ${type}, not a timestamp`);
  const present = new Set(columns.keys());
  // $1 cursor calldate (the switch's own text), $2 its row's md5, $3 seconds before it to start, $4 rows,
  // $5 and $6 the stored watermark (to know when a page has passed it).
  // The line and its md5 are computed once a row (OFFSET 0 keeps each lateral subquery from being
  // inlined, which would compute them again for the filter, the sort and the output), and rows are
  // taken in the calldate index's order: a page reads about its own rows, however large the table.
  return `SELECT t.calldate::text AS c, y.m, x.l AS line, extract(epoch FROM t.calldate::timestamptz) AS e,
           (t.calldate, y.m) >= ($5::${type}, $6::text) AS past
      FROM ${table} t
      CROSS JOIN LATERAL (SELECT ${lineExpression(present, 't.')} AS l OFFSET 0) x
      CROSS JOIN LATERAL (SELECT md5(x.l) AS m OFFSET 0) y
     WHERE t.calldate >= $1::${type} - $3 * interval '1 second'
       AND (t.calldate, y.m) > ($1::${type} - $3 * interval '1 second', $2::text)
     ORDER BY t.calldate, y.m LIMIT $4`;
}

/** Reads what is new in an asterisk-db source's cdr table, a page at a time, each page one import. */
export async function collectAsteriskDb(source: UsageSource, ctx: CollectContext, limits: CollectLimits = {}): Promise<CollectOutcome> {
  const pageRows = limits.pageRows ?? 50_000;
  const deadline = Date.now() + (limits.maxSeconds ?? 240) * 1000;
  const outcome = emptyOutcome();
  const client = await connectSwitch(source);
  try {
    const sql = await pageQuery(client, source);
    // Loaded once for the run's pages: a subscriber added meanwhile is matched by the next run (or a rematch).
    const settings = importSettingsOf(source, ctx.defaultCountry);
    const directory = await loadDirectory(ctx.pool, { country: settings.country });
    type Row = { c: string; m: string; line: string; e: string; past: boolean };
    const stored = { value: source.watermark ?? '-infinity', tiebreak: source.watermarkTiebreak ?? '' };
    let passed = source.watermark === null;
    const read = async (cursor: string, tiebreak: string, back: number): Promise<{ rows: Row[]; readAt: Date }> => {
      const readAt = new Date();
      try {
        return { rows: (await client.query(sql, [cursor, tiebreak, back, pageRows, stored.value, stored.tiebreak])).rows as Row[], readAt };
      } catch (error) {
        throw new SwitchUnreachableError(`source ${source.name}: reading ${source.table} failed: ${(error as Error).message}`);
      }
    };
    // The next page is read from the switch while this one is imported (its cursor is this page's
    // last row); the watermark still moves only once this page is committed.
    let next = read(source.watermark ?? '-infinity', '', source.watermark === null ? 0 : source.safetyWindowSeconds);
    for (let page = 0; ; page += 1) {
      const { rows, readAt } = await next;
      ctx.heartbeat({ page, rows: outcome.rows });
      const full = rows.length === pageRows;
      const last = rows[rows.length - 1];
      const more = full && Date.now() <= deadline;
      if (more) {
        next = read(last!.c, last!.m, 0);
        next.catch(() => undefined); // awaited next round; a failure here must not go unhandled meanwhile
      }
      if (last) {
        const text = rows.map((r) => r.line).join('\n') + '\n';
        const summary = await importUsageFile(ctx.pool, {
          ...ctx.importOptions,
          ...settings,
          directory,
          format: 'asterisk',
          columns: [...ASTERISK_OPTIONAL_COLUMNS],
          file: `${source.table} (calldate ${rows[0]!.c} to ${last.c})`,
          input: Readable.from([Buffer.from(text)], { objectMode: false }),
          rejectsFile: rejectsPath(ctx, source.name, last.c),
        });
        passed ||= last.past;
        await recordCollected(ctx.pool, source.name, {
          rows: summary.rowsRead,
          rejected: summary.rejected,
          duplicates: summary.duplicates,
          lastRecordAt: new Date(Number(last.e) * 1000),
          rejectsFile: summary.rejectsFile,
          watermark: passed ? { value: last.c, tiebreak: last.m } : undefined,
        });
        add(outcome, summary);
        await ctx.onImported(summary);
      }
      if (!full) {
        outcome.caughtUpAt = readAt;
        return outcome;
      }
      if (!more) {
        outcome.more = true;
        return outcome;
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function add(outcome: CollectOutcome, summary: ImportSummary): void {
  outcome.rows += summary.rowsRead;
  outcome.records += summary.records;
  outcome.rejected += summary.rejected;
  outcome.duplicates += summary.duplicates;
  outcome.imports.push(summary.importId);
}

function rejectsPath(ctx: CollectContext, source: string, calldate: string): string {
  const dir = path.join(ctx.rejectsDir ?? path.join(os.tmpdir(), 'billing-rejects'), source);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `cdr-${calldate.replace(/[^0-9]/g, '').slice(0, 14)}-${Date.now()}.rejects.csv`);
}

/** Names a spool never reads: files still being written by convention, our own outputs, hidden files. */
const NOT_A_SPOOL_FILE = /^\.|\.(tmp|part|partial)$|\.rejects\.csv$|\.error\.txt$/;

interface Look {
  size: number;
  mtimeMs: number;
}

function looks(dir: string): Map<string, Look> {
  const found = new Map<string, Look>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || NOT_A_SPOOL_FILE.test(entry.name)) continue;
    try {
      const stat = fs.statSync(path.join(dir, entry.name));
      found.set(entry.name, { size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      // Gone between the listing and the look (another worker moved it): not ours.
    }
  }
  return found;
}

/** The files whose size and time did not change between two looks `settleMs` apart, oldest first. */
async function settledFiles(dir: string, settleMs: number): Promise<string[]> {
  const first = looks(dir);
  if (first.size === 0) return [];
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const second = looks(dir);
  return [...first]
    .filter(([name, look]) => {
      const again = second.get(name);
      return again !== undefined && again.size === look.size && again.mtimeMs === look.mtimeMs && Date.now() - again.mtimeMs >= settleMs;
    })
    .sort(([a, x], [b, y]) => x.mtimeMs - y.mtimeMs || a.localeCompare(b))
    .map(([name]) => name);
}

/** Moves a file into `sub` (done/, failed/) under its own name, or with a number added when that is taken. */
function moveInto(dir: string, sub: string, name: string): string {
  const target = path.join(dir, sub);
  fs.mkdirSync(target, { recursive: true });
  let to = path.join(target, name);
  for (let n = 2; fs.existsSync(to); n += 1) to = path.join(target, `${name}.${n}`);
  fs.renameSync(path.join(dir, name), to);
  return to;
}

/** Imports the settled files of a spool folder, each one import, moved to done/ or failed/ once committed. */
export async function collectSpool(source: UsageSource, ctx: CollectContext, limits: CollectLimits = {}): Promise<CollectOutcome> {
  const dir = source.dir!;
  const outcome = emptyOutcome();
  const deadline = Date.now() + (limits.maxSeconds ?? 240) * 1000;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new SwitchUnreachableError(`source ${source.name}: the spool folder ${dir} does not exist (or this worker cannot see it)`);
  const readAt = new Date();
  const files = await settledFiles(dir, limits.settleMs ?? 2000);
  for (const name of files) {
    if (Date.now() > deadline) {
      outcome.more = true;
      return outcome;
    }
    const file = path.join(dir, name);
    ctx.heartbeat({ file: name, files: outcome.filesDone + outcome.filesFailed });
    const rejectsDir = path.join(dir, 'rejects');
    fs.mkdirSync(rejectsDir, { recursive: true });
    let summary: ImportSummary;
    // The switch wrote the file as its last call ended: the file's time is the last record's.
    const writtenAt = new Date(fs.statSync(file).mtimeMs);
    try {
      const options: ImportOptions = {
        ...ctx.importOptions,
        ...importSettingsOf(source, ctx.defaultCountry),
        file,
        rejectsFile: path.join(rejectsDir, `${name.replace(/\.gz$/, '')}.rejects.csv`),
      };
      if (!importerReads(source.format)) throw new ImportInputError(`${file}: ${source.format} files are not read by this version of billing yet`);
      summary = await importUsageFile(ctx.pool, options);
    } catch (error) {
      if (!(error instanceof ImportInputError)) throw error;
      const reason = error.message;
      const moved = moveInto(dir, 'failed', name);
      fs.writeFileSync(`${moved}.error.txt`, `${reason}\n`);
      outcome.filesFailed += 1;
      outcome.failedFiles.push({ file: name, reason });
      await recordCollected(ctx.pool, source.name, { rows: 0, rejected: 0, duplicates: 0, lastRecordAt: null, rejectsFile: null, fileFailed: `${name}: ${reason}` });
      continue;
    }
    // A file none of whose rows could be read (a mod_json_cdr document cut short) has failed, its rows in rejects/.
    const unreadable = summary.rowsRead > 0 && summary.rejected === summary.rowsRead;
    const reason = `no row of it could be read; see ${summary.rejectsFile}`;
    if (unreadable) {
      const moved = moveInto(dir, 'failed', name);
      fs.writeFileSync(`${moved}.error.txt`, `${reason}\n`);
      outcome.filesFailed += 1;
      outcome.failedFiles.push({ file: name, reason });
    } else {
      moveInto(dir, 'done', name);
      outcome.filesDone += 1;
    }
    add(outcome, summary);
    await recordCollected(ctx.pool, source.name, {
      rows: summary.rowsRead,
      rejected: summary.rejected,
      duplicates: summary.duplicates,
      lastRecordAt: unreadable ? null : writtenAt,
      rejectsFile: summary.rejectsFile,
      fileDone: !unreadable,
      fileFailed: unreadable ? `${name}: ${reason}` : undefined,
    });
    await ctx.onImported(summary);
  }
  // Every file that was there when the run began is taken: caught up unless one was still being written.
  outcome.caughtUpAt = looks(dir).size === 0 ? readAt : null;
  return outcome;
}
