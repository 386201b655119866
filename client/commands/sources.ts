/**
 * `billing sources`: switches registered once (issue 14), each with the settings its records are
 * read with and a collector, `usage-collector-<name>`, that a Temporal Schedule of the same name
 * runs every few minutes. A DSN's password is never printed (config's redactUrl).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { optionalColumnsProblem } from '../../billing/cdr/asterisk';
import { CDR_FORMATS } from '../../billing/cdr/readers';
import { TimeZoneSchema } from '../../billing/validation';
import { countryProblem } from '../../billing/numbers';
import { redactUrl } from '../../config';
import { FREESWITCH_JSON_FORMAT, tableProblem } from '../../db/usage-collect';
import {
  addSource,
  getSource,
  lagSeconds,
  listSources,
  removeSource,
  setSourcePaused,
  SourceExistsError,
  SOURCE_KINDS,
  type SourceKind,
  type SourceSettings,
  type UsageSource,
} from '../../db/usage-sources';
import { usageCollectorWorkflowId } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { printJson, printLines, printTable } from '../output';
import { serviceNumberOptions } from '../switch-options';
import { deleteCollectorSchedule, ensureCollectorSchedule } from '../schedule';
import { flag } from '../validate';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const SPOOL_FORMATS = [...new Set<string>([...CDR_FORMATS, FREESWITCH_JSON_FORMAT])];

function nameOf(text: string): string {
  if (!NAME.test(text)) throw new InputError(`NAME "${text}" must be lower-case letters, digits, ., _ or - (up to 63, starting with a letter or digit), e.g. pbx-paris`);
  return text;
}

/** A duration written 30s, 5m, 2h or 1d, in seconds. */
export function durationSeconds(text: string, flagName: string, minimum: number): number {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!match) throw new InputError(`${flagName} "${text}" must be a duration like 30s, 5m, 2h or 1d`);
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  if (seconds < minimum) throw new InputError(`${flagName} "${text}" is too short: at least ${minimum} s`);
  return seconds;
}

const minutes = (seconds: number): string => (seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

function dsnProblem(dsn: string): string | undefined {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return 'is not a URL; write it postgres://USER:PASSWORD@HOST:5432/asterisk';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return `is a ${url.protocol} URL; the collector reads PostgreSQL (postgres://USER:PASSWORD@HOST:5432/asterisk)`;
  if (url.pathname.length <= 1) return 'names no database; end it with /DATABASE, e.g. /asterisk';
  return undefined;
}

/** A source's settings from `sources add`'s flags, each checked with a one-line error naming it. */
function settingsOf(name: string, opts: Record<string, unknown>): SourceSettings {
  const kind = opts.kind as string | undefined;
  if (kind === undefined) throw new InputError(`--kind is required: ${SOURCE_KINDS.join(' or ')}`);
  if (!SOURCE_KINDS.includes(kind as SourceKind)) throw new InputError(`--kind "${kind}" is not one of ${SOURCE_KINDS.join(', ')}`);
  if (opts.timezone === undefined) throw new InputError("--timezone is required: the switch's zone, e.g. Europe/Paris (its records carry none)");
  const timezone = flag(TimeZoneSchema, opts.timezone, '--timezone');
  let format = opts.format as string | undefined;
  if (kind === 'asterisk-db') {
    if (format !== undefined && format !== 'asterisk') throw new InputError(`--format "${format}": an asterisk-db source reads Asterisk's cdr table, --format asterisk (or none)`);
    format = 'asterisk';
    if (opts.dir !== undefined) throw new InputError('--dir is for a spool source; an asterisk-db source takes --dsn and --table');
    if (opts.dsn === undefined) throw new InputError('--dsn is required for an asterisk-db source: postgres://USER:PASSWORD@HOST:5432/asterisk (a role with SELECT on cdr)');
    const problem = dsnProblem(String(opts.dsn));
    if (problem) throw new InputError(`--dsn "${redactUrl(String(opts.dsn))}" ${problem}`);
    const tableWrong = tableProblem(String(opts.table ?? 'cdr'));
    if (tableWrong) throw new InputError(`--table "${String(opts.table)}" ${tableWrong}`);
    if (opts.columns !== undefined) throw new InputError('--columns is for Asterisk CSV files in a spool; the cdr table says which columns it has');
  } else {
    if (format === undefined) throw new InputError(`--format is required for a spool source: ${SPOOL_FORMATS.join(', ')}`);
    if (!SPOOL_FORMATS.includes(format)) throw new InputError(`--format "${format}" is not one of ${SPOOL_FORMATS.join(', ')}`);
    if (opts.dsn !== undefined || opts.table !== undefined) throw new InputError('--dsn and --table are for an asterisk-db source; a spool source takes --dir');
    if (opts.dir === undefined) throw new InputError('--dir is required for a spool source: the folder the switch writes its files into');
    const dir = path.resolve(String(opts.dir));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new InputError(`--dir "${String(opts.dir)}" is not a folder; create it (the switch writes into it, the worker reads it)`);
  }
  const columns =
    opts.columns === undefined
      ? null
      : String(opts.columns)
          .split(',')
          .map((c) => c.trim().toLowerCase());
  if (columns) {
    if (format !== 'asterisk') throw new InputError('--columns names Asterisk optional columns; it is for --format asterisk');
    const problem = optionalColumnsProblem(columns);
    if (problem) throw new InputError(problem);
  }
  const country = opts.country === undefined ? null : String(opts.country);
  const countryWrong = country === null ? undefined : countryProblem(country);
  if (countryWrong) throw new InputError(`--country: ${countryWrong}`);
  const given = serviceNumberOptions(opts);
  const voicemailNumbers = given.voicemailNumbers ?? null;
  const featureCodes = given.featureCodes ?? null;
  const failures = opts.alertAfterFailures === undefined ? 3 : Number(opts.alertAfterFailures);
  if (!Number.isInteger(failures) || failures < 1 || failures > 1000)
    throw new InputError(`--alert-after-failures "${String(opts.alertAfterFailures)}" must be a whole number from 1 to 1000`);
  return {
    name,
    kind: kind as SourceKind,
    format: format!,
    timezone,
    country,
    voicemailNumbers,
    featureCodes,
    columns,
    dsn: kind === 'asterisk-db' ? String(opts.dsn) : null,
    table: kind === 'asterisk-db' ? String(opts.table ?? 'cdr') : null,
    dir: kind === 'spool' ? path.resolve(String(opts.dir)) : null,
    everySeconds: durationSeconds(String(opts.every ?? '5m'), '--every', 10),
    safetyWindowSeconds: durationSeconds(String(opts.safetyWindow ?? '1h'), '--safety-window', 0),
    maxLagSeconds: durationSeconds(String(opts.maxLag ?? '30m'), '--max-lag', 60),
    alertAfterFailures: failures,
  };
}

/** What `list`, `show` and `--json` show of a source: its DSN redacted, its lag now. */
function viewOf(s: UsageSource, nowMs: number) {
  return {
    name: s.name,
    kind: s.kind,
    format: s.format,
    timezone: s.timezone,
    country: s.country,
    voicemailNumbers: s.voicemailNumbers,
    featureCodes: s.featureCodes,
    columns: s.columns,
    dsn: s.dsn,
    table: s.table,
    dir: s.dir,
    every: minutes(s.everySeconds),
    safetyWindow: minutes(s.safetyWindowSeconds),
    maxLag: minutes(s.maxLagSeconds),
    alertAfterFailures: s.alertAfterFailures,
    paused: s.paused,
    collector: usageCollectorWorkflowId(s.name),
    lastRecordAt: s.lastRecordAt?.toISOString() ?? null,
    lagSeconds: lagSeconds(s, nowMs),
    caughtUpAt: s.caughtUpAt?.toISOString() ?? null,
    lastRunAt: s.lastRunAt?.toISOString() ?? null,
    rowsCollected: s.rowsCollected,
    rowsRejected: s.rowsRejected,
    duplicates: s.duplicates,
    filesDone: s.filesDone,
    filesFailed: s.filesFailed,
    consecutiveFailures: s.consecutiveFailures,
    lastError: s.lastError,
    lastErrorAt: s.lastErrorAt?.toISOString() ?? null,
    lastRejectsFile: s.lastRejectsFile,
    watermark: s.watermark,
    alerted: s.alertedAt !== null,
  };
}

const where = (s: { kind: string; dsn: string | null; table: string | null; dir: string | null }): string => (s.kind === 'asterisk-db' ? `${s.table} in ${s.dsn}` : s.dir!);

async function existing(ctx: CommandContext, name: string): Promise<UsageSource> {
  const source = await getSource(await ctx.pool(), nameOf(name));
  if (!source) throw new InputError(`source "${name}" does not exist; see \`billing sources list\``);
  return source;
}

export function registerSourceCommands(program: Command, run: RunCommand): void {
  const sources = program.command('sources').description('switches whose call records are collected on a schedule (Asterisk cdr table, spool folder)');

  sources
    .command('add <name>')
    .description('register a switch once, with its collector run every --every by the Temporal Schedule usage-collector-NAME')
    .option('--kind <kind>', `${SOURCE_KINDS.join(' | ')}`)
    .option('--format <format>', `spool: ${SPOOL_FORMATS.join(' | ')}; asterisk-db: asterisk (the default)`)
    .option('--timezone <zone>', "IANA zone of the switch's time stamps, which carry none")
    .option('--country <CC>', 'country of numbers written without a country code (default: BILLING_DEFAULT_COUNTRY)')
    .option('--voicemail-numbers <list>', 'voicemail access numbers, comma-separated; EXT@CONTEXT names a menu reached through an IVR')
    .option('--feature-codes <pattern...>', 'answered rows to these are not calls: Asterisk patterns (_*72.), ^regular expressions or numbers; "none" for none')
    .option('--columns <list>', 'spool of Asterisk CSV: the optional columns present (uniqueid,userfield,peeraccount,linkedid,sequence)')
    .option('--dsn <url>', 'asterisk-db: the switch database, postgres://USER:PASSWORD@HOST:5432/asterisk (a role with SELECT on the cdr table); its password is never printed')
    .option('--table <name>', 'asterisk-db: the cdr_pgsql table (default cdr)')
    .option('--dir <path>', 'spool: the folder the switch writes its files into (done/ and failed/ are made in it)')
    .option('--every <duration>', 'how often the collector runs: 30s, 5m, 1h (default 5m)')
    .option('--safety-window <duration>', 'asterisk-db: rows this far before the watermark are read again, for rows that commit late (default 1h)')
    .option('--max-lag <duration>', 'ops are alerted once when the source is behind by more (default 30m)')
    .option('--alert-after-failures <n>', 'ops are alerted once after this many failed runs in a row (default 3)')
    .option('--json', 'print the source as JSON')
    .action((name: string, opts) =>
      run(async (ctx) => {
        const settings = settingsOf(nameOf(name), opts);
        const pool = await ctx.pool();
        try {
          await addSource(pool, settings);
        } catch (error) {
          if (error instanceof SourceExistsError) throw new InputError(error.message);
          throw error;
        }
        let schedule: string;
        try {
          schedule = await ensureCollectorSchedule(await ctx.temporal(), ctx.config, { name: settings.name, everySeconds: settings.everySeconds, paused: false });
        } catch (error) {
          throw new Error(
            `source ${settings.name} is registered, but its schedule could not be made (${(error as Error).message}); once Temporal is up, run \`billing sources resume ${settings.name}\``,
          );
        }
        const shown = viewOf((await getSource(pool, settings.name))!, Date.now());
        if (opts.json) return printJson({ ...shown, schedule });
        printLines([
          `added source ${settings.name} (${settings.kind}, ${settings.format}, ${settings.timezone}): ${where(shown)}`,
          `  ${schedule} schedule ${usageCollectorWorkflowId(settings.name)}: every ${minutes(settings.everySeconds)}`,
        ]);
      }),
    );

  sources
    .command('list')
    .description('every source with its lag, last record and rows collected')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const now = Date.now();
        const views = (await listSources(await ctx.pool())).map((s) => viewOf(s, now));
        if (opts.json) return printJson(views);
        printTable(
          views.map((v) => ({
            name: v.name,
            kind: v.kind,
            format: v.format,
            where: where(v),
            state: v.paused ? 'paused' : v.consecutiveFailures > 0 ? `failing (${v.consecutiveFailures})` : 'active',
            lag: `${Math.round(v.lagSeconds / 60)} min`,
            'last record': v.lastRecordAt ?? '-',
            rows: v.rowsCollected,
            rejected: v.rowsRejected,
          })),
          ['name', 'kind', 'format', 'where', 'state', 'lag', 'last record', 'rows', 'rejected'],
        );
      }),
    );

  sources
    .command('show <name>')
    .description("a source's settings, progress and health")
    .option('--json', 'print as JSON')
    .action((name: string, opts) =>
      run(async (ctx) => {
        const v = viewOf(await existing(ctx, name), Date.now());
        if (opts.json) return printJson(v);
        printLines([
          `${v.name}: ${v.kind}, ${v.format}, ${v.timezone}${v.paused ? ', PAUSED' : ''}`,
          `  reads:          ${where(v)}`,
          `  settings:       country ${v.country ?? '(BILLING_DEFAULT_COUNTRY)'}; voicemail ${v.voicemailNumbers?.join(',') ?? '(default)'}; feature codes ${v.featureCodes ? v.featureCodes.join(' ') || 'none' : '(default)'}${v.columns ? `; columns ${v.columns.join(',')}` : ''}`,
          `  collector:      ${v.collector}, every ${v.every}${v.kind === 'asterisk-db' ? `, safety window ${v.safetyWindow}` : ''}; alert past ${v.maxLag} behind or ${v.alertAfterFailures} failures`,
          `  last record:    ${v.lastRecordAt ?? 'none yet'}`,
          `  lag:            ${Math.round(v.lagSeconds / 60)} min (caught up ${v.caughtUpAt ?? 'never'}; last run ${v.lastRunAt ?? 'never'})`,
          `  rows collected: ${v.rowsCollected} (${v.duplicates} read again, already in)`,
          `  rows rejected:  ${v.rowsRejected}${v.lastRejectsFile ? ` (last in ${v.lastRejectsFile})` : ''}`,
          ...(v.kind === 'spool' ? [`  files:          ${v.filesDone} done, ${v.filesFailed} failed (see ${path.join(v.dir!, 'failed')})`] : []),
          `  failures:       ${v.consecutiveFailures} in a row${v.lastError ? `; last error ${v.lastErrorAt}: ${v.lastError}` : ''}`,
          ...(v.alerted ? ['  ops alerted about it (once, until it is healthy again)'] : []),
        ]);
      }),
    );

  for (const [command, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    sources
      .command(`${command} <name>`)
      .description(paused ? "pause the source's collector schedule" : "resume the source's collector schedule (and make it again if it is missing)")
      .action((name: string) =>
        run(async (ctx) => {
          const source = await existing(ctx, name);
          await setSourcePaused(await ctx.pool(), source.name, paused);
          await ensureCollectorSchedule(await ctx.temporal(), ctx.config, { name: source.name, everySeconds: source.everySeconds, paused });
          printLines([`${paused ? 'paused' : 'resumed'} source ${source.name} (schedule ${usageCollectorWorkflowId(source.name)})`]);
        }),
      );
  }

  sources
    .command('remove <name>')
    .description('remove the source and its schedule; the records it collected stay')
    .action((name: string) =>
      run(async (ctx) => {
        const source = await existing(ctx, name);
        const hadSchedule = await deleteCollectorSchedule(await ctx.temporal(), source.name);
        await removeSource(await ctx.pool(), source.name);
        printLines([`removed source ${source.name}${hadSchedule ? ` and its schedule ${usageCollectorWorkflowId(source.name)}` : ''}; the records it collected stay`]);
      }),
    );
}
