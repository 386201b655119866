import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { comparePeriods, nextPeriod, periodBounds } from '../../billing/periods';
import { PeriodSchema, TimeZoneSchema } from '../../billing/validation';
import { ABUSE_SCAN_SCHEDULE_ID, MONTH_CLOSE_SCHEDULE_ID } from '../../workflows/messages';
import { InputError, type CommandContext, type RunCommand } from '../context';
import { printJson, printLines } from '../output';
import { ensureAbuseScanSchedule, ensureMonthCloseSchedule } from '../schedule';
import { flag } from '../validate';

const TimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM, e.g. 06:00');

/** The month close's schedule, or with `--abuse-scan` the daily abuse scan's. */
const scheduleId = (opts: { abuseScan?: boolean }): string => (opts.abuseScan ? ABUSE_SCAN_SCHEDULE_ID : MONTH_CLOSE_SCHEDULE_ID);
const ABUSE_SCAN_OPTION = ['--abuse-scan', `act on ${ABUSE_SCAN_SCHEDULE_ID} (the daily abuse scan) instead`] as const;

async function scheduleHandle(ctx: CommandContext, id: string = MONTH_CLOSE_SCHEDULE_ID) {
  return (await ctx.temporal()).schedule.getHandle(id);
}

async function orNotFound<T>(action: () => Promise<T>, id: string = MONTH_CLOSE_SCHEDULE_ID): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new InputError(`the schedule ${id} does not exist yet; create it with \`billing schedule ensure\``);
    throw error;
  }
}

export function registerScheduleCommands(program: Command, run: RunCommand): void {
  const schedule = program.command('schedule').description(`the Schedule ${MONTH_CLOSE_SCHEDULE_ID}, which closes each month on the 1st`);

  schedule
    .command('ensure')
    .description(`create the schedule, or update it to these settings (idempotent); also ensures ${ABUSE_SCAN_SCHEDULE_ID} (BILLING_ABUSE_SCAN_TIME, _TIMEZONE)`)
    .option('--time <HH:MM>', 'time of day on the 1st (default BILLING_CLOSE_SCHEDULE_TIME, 06:00)')
    .option('--timezone <zone>', 'zone of that time (default BILLING_CLOSE_SCHEDULE_TIMEZONE, UTC)')
    .option('--json', 'print the result as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const settings = {
          time: flag(TimeSchema, opts.time ?? ctx.config.closeScheduleTime, '--time'),
          timezone: flag(TimeZoneSchema, opts.timezone ?? ctx.config.closeScheduleTimezone, '--timezone'),
        };
        const outcome = await ensureMonthCloseSchedule(await ctx.temporal(), ctx.config, settings);
        const abuseOutcome = await ensureAbuseScanSchedule(await ctx.temporal(), ctx.config);
        const abuse = { scheduleId: ABUSE_SCAN_SCHEDULE_ID, outcome: abuseOutcome, time: ctx.config.abuseScanTime, timezone: ctx.config.abuseScanTimezone };
        if (opts.json) printJson({ scheduleId: MONTH_CLOSE_SCHEDULE_ID, outcome, ...settings, abuseScan: abuse });
        else {
          printLines([
            `${outcome} schedule ${MONTH_CLOSE_SCHEDULE_ID}: the 1st of each month at ${settings.time} ${settings.timezone}, closing the month that just ended`,
            `${abuseOutcome} schedule ${ABUSE_SCAN_SCHEDULE_ID}: every day at ${abuse.time} ${abuse.timezone}, scanning the day before for abuse`,
          ]);
        }
      }),
    );

  schedule
    .command('describe')
    .description('the schedule: when it fires next, whether it is paused, what it did lately')
    .option(...ABUSE_SCAN_OPTION)
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const description = await orNotFound(async () => (await scheduleHandle(ctx, scheduleId(opts))).describe(), scheduleId(opts));
        const view = {
          scheduleId: description.scheduleId,
          paused: description.state.paused,
          note: description.state.note ?? null,
          timezone: description.spec.timezone ?? 'UTC',
          nextRuns: description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
          recentRuns: description.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
          running: description.info.runningActions.map((a) => a.workflow.workflowId),
          overlap: description.policies.overlap,
          catchupWindowMs: description.policies.catchupWindow,
        };
        if (opts.json) return printJson(view);
        printLines([
          `${view.scheduleId}: ${view.paused ? `PAUSED${view.note ? ` (${view.note})` : ''}` : 'active'}, zone ${view.timezone}, overlap ${view.overlap}`,
          `  next: ${view.nextRuns.join(', ') || '-'}`,
          `  recent: ${view.recentRuns.map((r) => `${r.scheduledAt} → ${r.workflowId}`).join(', ') || '-'}`,
          `  running: ${view.running.join(', ') || '-'}`,
        ]);
      }),
    );

  for (const [name, verb] of [
    ['pause', 'paused'],
    ['unpause', 'unpaused'],
  ] as const) {
    schedule
      .command(name)
      .description(`${name} the schedule`)
      .option('--note <text>', 'why, for whoever looks next')
      .option(...ABUSE_SCAN_OPTION)
      .action((opts) =>
        run(async (ctx) => {
          const handle = await scheduleHandle(ctx, scheduleId(opts));
          await orNotFound(() => (name === 'pause' ? handle.pause(opts.note) : handle.unpause(opts.note)), scheduleId(opts));
          printLines([`${verb} ${scheduleId(opts)}`]);
        }),
      );
  }

  schedule
    .command('trigger')
    .description('fire the schedule now: closes the month before now (with --abuse-scan: scans the day before today)')
    .option(...ABUSE_SCAN_OPTION)
    .action((opts) =>
      run(async (ctx) => {
        await orNotFound(async () => (await scheduleHandle(ctx, scheduleId(opts))).trigger(ScheduleOverlapPolicy.BUFFER_ALL), scheduleId(opts));
        printLines([`triggered ${scheduleId(opts)}; follow it with \`billing schedule describe${opts.abuseScan ? ' --abuse-scan' : ''}\` or in the Temporal UI`]);
      }),
    );

  schedule
    .command('backfill')
    .description('run the schedule for months it missed (server down, schedule paused): each closes as it would have on time')
    .requiredOption('--from <YYYY-MM>', 'first month to close')
    .option('--to <YYYY-MM>', 'last month to close (default: --from)')
    .action((opts) =>
      run(async (ctx) => {
        const from = flag(PeriodSchema, opts.from, '--from');
        const to = opts.to === undefined ? from : flag(PeriodSchema, opts.to, '--to');
        if (comparePeriods(from, to) > 0) throw new InputError(`--from ${from} is after --to ${to}`);
        const handle = await scheduleHandle(ctx);
        const description = await orNotFound(() => handle.describe());
        const zone = description.spec.timezone ?? 'UTC';
        // The schedule closes month P when it fires on the 1st of the month after P.
        const start = new Date(periodBounds(nextPeriod(from), zone).startMs);
        const end = new Date(periodBounds(nextPeriod(to), zone).endMs - 1);
        if (end.getTime() > Date.now()) throw new InputError(`${to} is not over yet, so there is nothing to backfill for it`);
        await handle.backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
        printLines([`backfilling ${MONTH_CLOSE_SCHEDULE_ID} for ${from === to ? from : `${from} to ${to}`}: each month's close starts in turn`]);
      }),
    );
}
