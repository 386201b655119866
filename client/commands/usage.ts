import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Command } from 'commander';
import type { CountryCode } from 'libphonenumber-js';
import { CDR_FORMATS } from '../../billing/cdr/readers';
import { DEFAULT_FEATURE_CODES, DEFAULT_SOURCE, DEFAULT_VOICEMAIL_NUMBERS, type CdrFormat } from '../../billing/cdr/types';
import { formatMinutes } from '../../billing/emails';
import { periodOf } from '../../billing/periods';
import { IdSchema, PeriodSchema, TimeZoneSchema } from '../../billing/validation';
import type { ImportProgress } from '../../db/usage-import';
import { monthUsage } from '../../db/month-usage';
import { getSubscriber } from '../../db/subscribers';
import { anyAlertableMonth } from '../../db/usage-alerts';
import { usageImportWorkflowId, usageRematchWorkflowId, type UsageAlertsHandedOver } from '../../workflows/messages';
import type { usageImportFollowUpWorkflow, usageRematchWorkflow } from '../../workflows/usage-follow-ups';
import { InputError, type CommandContext, type RunCommand } from '../context';
import type { runOperation as RunOperation } from '../operations';
import { plural, printJson, printLines, printTable } from '../output';
import { progressBar } from '../progress';
import { serviceNumberOptions } from '../switch-options';
import { flag } from '../validate';

const ASTERISK_OPTIONAL_COLUMNS = ['uniqueid', 'userfield', 'peeraccount', 'linkedid', 'sequence'];

/** The operation runner, loaded when a command starts one: the Temporal client stays out of `usage show`. */
function operations(): { runOperation: typeof RunOperation } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../operations') as { runOperation: typeof RunOperation };
}

/** The summary's line about the alerts an import or a rematch made due. */
const alertsLine = (done: UsageAlertsHandedOver): string =>
  done.alertsWorkflowId ? `${plural(done.alertEmails, 'usage alert email')} handed to ${done.alertsWorkflowId}` : 'no usage alerts due';

/**
 * Runs an import's follow-up, `usage-import-<id>`: it queues the alerts the import's calls made
 * due and hands them to their delivery. One already under way is waited for, not started again.
 */
async function followUpImport(ctx: CommandContext, importId: number): Promise<UsageAlertsHandedOver> {
  return operations().runOperation<typeof usageImportFollowUpWorkflow>(await ctx.temporal(), 'usageImportFollowUpWorkflow', {
    workflowId: usageImportWorkflowId(importId),
    taskQueue: ctx.config.taskQueue,
    args: [{ importId }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `Usage alerts of import ${importId}`,
  });
}

/** The import's bar: bytes of the file read, with rows and their rate. */
function importProgressBar(): { update(p: ImportProgress): void; stop(): void } {
  const bar = progressBar<{ rows: number; rate: number }>('importing [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}');
  const started = Date.now();
  return {
    update: (p) => bar.update(p.bytesRead, p.totalBytes, { rows: p.rowsRead, rate: Math.round(p.rowsRead / Math.max(0.001, (Date.now() - started) / 1000)) }),
    stop: () => bar.stop(),
  };
}

export function registerUsageCommands(program: Command, run: RunCommand): void {
  const usage = program.command('usage').description('import call records and look at usage');

  usage
    .command('import <file>')
    .description('import a CDR or usage file (plain or .gz); bad rows go to FILE.rejects.csv with their line and reason')
    .option('--format <format>', `${CDR_FORMATS.join(' | ')} (default: detected from the file)`)
    .option('--timezone <zone>', "IANA zone of the file's time stamps, which carry none (the switch's zone)", 'UTC')
    .option(
      '--source <name>',
      `name of the switch or feed, part of each row's identity (default: "${DEFAULT_SOURCE}"); give each switch its own when two write identical rows; a source registered with \`billing sources add\` gives its settings (zone, format, country, voicemail numbers, feature codes, columns) to the options not given`,
    )
    .option('--columns <list>', `Asterisk optional columns present, comma-separated, for 17 or 20 columns: ${ASTERISK_OPTIONAL_COLUMNS.join(',')}`)
    .option('--country <CC>', 'country of numbers written without a country code, e.g. 4155550101 or (415) 555-0101 (default: BILLING_DEFAULT_COUNTRY, US)')
    .option(
      '--voicemail-numbers <list>',
      `voicemail access numbers, comma-separated; EXT@CONTEXT names a menu reached through an IVR (default: ${DEFAULT_VOICEMAIL_NUMBERS.join(',')})`,
    )
    .option(
      '--feature-codes <pattern...>',
      `answered rows to these are not calls: Asterisk patterns (_*72.), ^regular expressions or numbers; "none" for none (default: ${DEFAULT_FEATURE_CODES.join(' ')})`,
    )
    .option('--rejects <file>', 'where to write rejected rows (default: FILE.rejects.csv)')
    .option('--json', 'print the summary as JSON')
    .action((file: string, opts, command: Command) =>
      run(async (ctx) => {
        // A registered source (`billing sources add`) gives its settings to every option not given here.
        if (opts.source !== undefined && String(opts.source).trim() !== '') {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const { getSource } = require('../../db/usage-sources') as typeof import('../../db/usage-sources');
          const registered = await getSource(await ctx.pool(), String(opts.source));
          if (registered) {
            const given = (option: string): boolean => command.getOptionValueSource(option) === 'cli';
            if (!given('format') && CDR_FORMATS.includes(registered.format as CdrFormat)) opts.format = registered.format;
            if (!given('timezone')) opts.timezone = registered.timezone;
            if (!given('columns') && registered.columns) opts.columns = registered.columns.join(',');
            if (!given('country') && registered.country) opts.country = registered.country;
            if (!given('voicemailNumbers') && registered.voicemailNumbers) opts.voicemailNumbers = registered.voicemailNumbers.join(',');
            if (!given('featureCodes') && registered.featureCodes) opts.featureCodes = registered.featureCodes.length === 0 ? ['none'] : registered.featureCodes;
          }
        }
        if (opts.format !== undefined && !CDR_FORMATS.includes(opts.format)) throw new InputError(`--format "${opts.format}" is not one of ${CDR_FORMATS.join(', ')}`);
        const timezone = flag(TimeZoneSchema, opts.timezone, '--timezone');
        if (opts.source !== undefined && String(opts.source).trim() === '') throw new InputError('--source "" must name the switch, e.g. pbx-paris');
        const columns =
          opts.columns === undefined
            ? undefined
            : String(opts.columns)
                .split(',')
                .map((c) => c.trim().toLowerCase());
        const unknownColumn = columns?.find((c) => !ASTERISK_OPTIONAL_COLUMNS.includes(c));
        if (unknownColumn !== undefined) throw new InputError(`--columns "${unknownColumn}" is not an optional Asterisk column; use ${ASTERISK_OPTIONAL_COLUMNS.join(', ')}`);
        // Loaded by `usage import` alone: the importer and libphonenumber's metadata (some 40 ms of
        // CPU) stay out of `usage show`.
        /* eslint-disable @typescript-eslint/no-require-imports */
        const { countryProblem } = require('../../billing/numbers') as typeof import('../../billing/numbers');
        const { ImportInputError, importUsageFile } = require('../../db/usage-import') as typeof import('../../db/usage-import');
        /* eslint-enable @typescript-eslint/no-require-imports */
        const country = String(opts.country ?? ctx.config.defaultCountry);
        const countryWrong = countryProblem(country);
        if (countryWrong) throw new InputError(`${opts.country === undefined ? 'BILLING_DEFAULT_COUNTRY' : '--country'}: ${countryWrong}`);
        const { voicemailNumbers, featureCodes } = serviceNumberOptions(opts);
        const pool = await ctx.pool();
        const bar = importProgressBar();
        let summary;
        try {
          summary = await importUsageFile(pool, {
            file,
            format: opts.format as CdrFormat | undefined,
            timezone,
            columns,
            rejectsFile: opts.rejects,
            batchSize: ctx.config.importBatchRows,
            callDates: { earliestDay: ctx.config.importEarliest, maxFutureHours: ctx.config.importMaxFutureHours },
            source: opts.source,
            country: country as CountryCode,
            voicemailNumbers,
            featureCodes,
            onProgress: (p) => bar.update(p),
          });
        } catch (error) {
          if (error instanceof ImportInputError) throw new InputError(error.message);
          throw error;
        } finally {
          bar.stop();
        }
        // The import has committed. Its alerts follow as a workflow, unless no month it touched can be
        // alerted (old records); if that cannot start, the import stands and the user is told how to hand them over later.
        let alerts = 'no usage alerts due';
        let followUpFailure: Error | undefined;
        if (await anyAlertableMonth(pool, summary.touched)) {
          try {
            alerts = alertsLine(await followUpImport(ctx, summary.importId));
          } catch (error) {
            if (error instanceof InputError) throw error;
            followUpFailure = error as Error;
            alerts = `usage alerts not handed over: see the last line (\`billing usage alerts ${summary.importId}\` hands them over)`;
          }
        }
        const { touched, ...shown } = summary;
        if (opts.json) printJson({ ...shown, subscribersTouched: touched.length, alerts });
        else {
          const notCounted =
            Object.entries(summary.notCounted)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || '0';
          printLines([
            `imported ${file} (${summary.format}, source ${summary.source}): ${summary.rowsRead} rows read`,
            `  counted:     ${summary.counted}`,
            `  not counted: ${notCounted}`,
            `  duplicates:  ${summary.duplicates} (already imported)`,
            `  unmatched:   ${summary.unmatched}${
              summary.unmatchedNumbers.length
                ? ` (most: ${summary.unmatchedNumbers
                    .slice(0, 5)
                    .map((u) => `${u.number} ×${u.records}`)
                    .join(', ')})`
                : ''
            }`,
            `  late:        ${summary.late} (for months already invoiced: billed on the next invoice)`,
            `  rejected:    ${summary.rejected}${summary.rejectsFile ? ` (see ${summary.rejectsFile})` : ''}`,
            `  ${alerts}`,
          ]);
        }
        if (followUpFailure) {
          throw new Error(
            `import ${summary.importId} is committed (do not import ${file} again), but its usage alerts are not handed over: ${followUpFailure.message}. ` +
              `Once Temporal and a billing worker are up, run \`billing usage alerts ${summary.importId}\``,
          );
        }
        if (summary.rowsRead > 0 && summary.rejected === summary.rowsRead) {
          throw new InputError(`every row of ${file} was rejected; see ${summary.rejectsFile}`);
        }
      }),
    );

  usage
    .command('alerts <import>')
    .description("queue and hand over the usage alerts of an import whose follow-up could not start (the import's summary names it)")
    .option('--json', 'print the outcome as JSON')
    .action((importText: string, opts) =>
      run(async (ctx) => {
        if (!/^\d{1,15}$/.test(importText)) throw new InputError(`IMPORT "${importText}" must be an import's number, as its summary names it (\`billing usage alerts 42\`)`);
        const done = await followUpImport(ctx, Number(importText));
        if (opts.json) printJson({ importId: Number(importText), workflowId: usageImportWorkflowId(Number(importText)), ...done });
        else printLines([`import ${importText}: ${alertsLine(done)}`]);
      }),
    );

  usage
    .command('rematch')
    .description('attribute records that matched no subscriber to the numbers and subscribers registered since')
    .option('--json', 'print the summary as JSON')
    .action((opts) =>
      run(async (ctx) => {
        // Runs as `usage-rematch-<time>`: the attribution and its alerts survive a crash half way.
        const { alertEmails, alertsWorkflowId, ...shown } = await operations().runOperation<typeof usageRematchWorkflow>(await ctx.temporal(), 'usageRematchWorkflow', {
          workflowId: usageRematchWorkflowId(Date.now()),
          taskQueue: ctx.config.taskQueue,
          args: [],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          staticSummary: 'Attribute unmatched call records',
        });
        const alerts = alertsLine({ alertEmails, alertsWorkflowId });
        if (opts.json) printJson({ ...shown, alerts });
        else printLines([`rematch: ${shown.attributed} unmatched record(s) attributed; ${shown.stillUnmatched} still match nobody`, `  ${alerts}`]);
      }),
    );

  usage
    .command('show <subscriber>')
    .description('minutes used, allowance, remaining and overage so far, with a per-day breakdown')
    .option('--period <YYYY-MM>', 'the month (default: the current one in their zone)')
    .option('--json', 'print as JSON')
    .action((subscriberId: string, opts) =>
      run(async (ctx) => {
        const pool = await ctx.pool();
        const subscriber = await getSubscriber(pool, flag(IdSchema, subscriberId, 'SUBSCRIBER'));
        if (!subscriber) throw new InputError(`subscriber "${subscriberId}" does not exist; see \`billing subscribers list\``);
        const period = opts.period ? flag(PeriodSchema, opts.period, '--period') : periodOf(Date.now(), subscriber.timezone);
        const { usage: view } = await monthUsage(pool, subscriber, period);
        const { days } = view;
        const allowance = view.allowanceSeconds;
        if (opts.json) return printJson(view);
        printLines([
          `${subscriber.id}, ${period} (${subscriber.timezone}), policy v${view.policyVersion}`,
          `  used:      ${formatMinutes(view.usedSeconds)} in ${view.calls} calls`,
          `  allowance: ${formatMinutes(allowance)}`,
          `  remaining: ${formatMinutes(view.remainingSeconds)}`,
          `  overage:   ${view.overageMinutes} min so far`,
          '',
        ]);
        printTable(
          days.map((d) => ({
            day: d.day,
            counted: `${d.countedCalls} calls, ${formatMinutes(d.countedSeconds)}`,
            'not counted': `${d.notCountedCalls} calls, ${formatMinutes(d.notCountedSeconds)}`,
          })),
          ['day', 'counted', 'not counted'],
        );
      }),
    );
}
