import type { Command } from 'commander';
import path from 'node:path';
import { periodOf } from '../../billing/periods';
import { allowanceSeconds, overageMinutes, roundUsage } from '../../billing/rating';
import { formatMinutes } from '../../billing/emails';
import { IdSchema, PeriodSchema, TimeZoneSchema } from '../../billing/validation';
import { ImportInputError, importUsageCsv } from '../../activities/usage-import';
import { policyInEffectOn } from '../../db/policies';
import { getSubscriber } from '../../db/subscribers';
import { countedDurations, usageByDay } from '../../db/usage';
import { InputError, type RunCommand } from '../context';
import { printJson, printLines, printTable } from '../output';
import { flag } from '../validate';

const FORMATS = ['csv'] as const;

export function registerUsageCommands(program: Command, run: RunCommand): void {
  const usage = program.command('usage').description('import call records and look at usage');

  usage
    .command('import <file>')
    .description('import a usage file; bad rows go to <file>.rejects.csv with their line and reason')
    .option('--format <format>', `file format: ${FORMATS.join(', ')}`, 'csv')
    .option('--timezone <zone>', 'zone of time stamps that carry none', 'UTC')
    .option('--source <name>', 'name of the switch or feed (default: the file name)')
    .option('--json', 'print the summary as JSON')
    .action((file: string, opts) => run(async (ctx) => {
      if (!FORMATS.includes(opts.format)) throw new InputError(`--format "${opts.format}" is not supported; use one of ${FORMATS.join(', ')}`);
      const timezone = flag(TimeZoneSchema, opts.timezone, '--timezone');
      let summary;
      try {
        summary = await importUsageCsv(await ctx.pool(), { file, timezone, source: opts.source ?? path.basename(file) });
      } catch (error) {
        if (error instanceof ImportInputError) throw new InputError(error.message);
        throw error;
      }
      if (opts.json) printJson(summary);
      else {
        const notCounted = Object.entries(summary.notCounted).map(([k, v]) => `${v} ${k}`).join(', ') || '0';
        printLines([
          `imported ${file}: ${summary.rowsRead} rows read`,
          `  counted:     ${summary.counted}`,
          `  not counted: ${notCounted}`,
          `  duplicates:  ${summary.duplicates} (already imported)`,
          `  rejected:    ${summary.rejected}${summary.rejectsFile ? ` (see ${summary.rejectsFile})` : ''}`,
        ]);
      }
      if (summary.rowsRead > 0 && summary.rejected === summary.rowsRead) {
        throw new InputError(`every row of ${file} was rejected; see ${summary.rejectsFile}`);
      }
    }));

  usage
    .command('show <subscriber>')
    .description('minutes used, allowance, remaining and overage so far, with a per-day breakdown')
    .option('--period <YYYY-MM>', 'the month (default: the current one in their zone)')
    .option('--json', 'print as JSON')
    .action((subscriberId: string, opts) => run(async (ctx) => {
      const pool = await ctx.pool();
      const subscriber = await getSubscriber(pool, flag(IdSchema, subscriberId, 'SUBSCRIBER'));
      if (!subscriber) throw new InputError(`subscriber "${subscriberId}" does not exist; see \`billing subscribers list\``);
      const period = opts.period ? flag(PeriodSchema, opts.period, '--period') : periodOf(Date.now(), subscriber.timezone);
      const policy = await policyInEffectOn(pool, `${period}-01`);
      const used = roundUsage(await countedDurations(pool, subscriber.id, period), policy.roundingIncrementSeconds);
      const allowance = allowanceSeconds({ rules: policy });
      const days = await usageByDay(pool, subscriber.id, period, subscriber.timezone);
      const view = {
        subscriberId: subscriber.id,
        period,
        timezone: subscriber.timezone,
        policyVersion: policy.version,
        calls: used.calls,
        usedSeconds: used.billableSeconds,
        allowanceSeconds: allowance,
        remainingSeconds: Math.max(0, allowance - used.billableSeconds),
        overageMinutes: overageMinutes(used.billableSeconds, allowance),
        days,
      };
      if (opts.json) return printJson(view);
      printLines([
        `${subscriber.id}, ${period} (${subscriber.timezone}), policy v${policy.version}`,
        `  used:      ${formatMinutes(view.usedSeconds)} in ${view.calls} calls`,
        `  allowance: ${formatMinutes(allowance)}`,
        `  remaining: ${formatMinutes(view.remainingSeconds)}`,
        `  overage:   ${view.overageMinutes} min so far`,
        '',
      ]);
      printTable(days.map((d) => ({ day: d.day, counted: `${d.countedCalls} calls, ${formatMinutes(d.countedSeconds)}`, 'not counted': `${d.notCountedCalls} calls, ${formatMinutes(d.notCountedSeconds)}` })), ['day', 'counted', 'not counted']);
    }));
}
