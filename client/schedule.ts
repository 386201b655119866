/**
 * The Schedules, created or updated idempotently: `billing-month-close` starts, on the 1st of each
 * month at a configured time and zone, the close of the month that just ended; `billing-abuse-scan`
 * scans, each day at a configured time and zone, the day before (issue 7).
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import { ABUSE_SCAN_SCHEDULE_ID, MONTH_CLOSE_SCHEDULE_ID, usageCollectorWorkflowId } from '../workflows/messages';
import type { usageCollectorWorkflow } from '../workflows/usage-collector';
import type { abuseScanWorkflow } from '../workflows/abuse-scan';
import type { scheduledMonthCloseWorkflow } from '../workflows/scheduled-close';

export interface ScheduleSettings {
  time: string; // HH:MM
  timezone: string;
}

export function monthCloseScheduleOptions(config: Pick<Config, 'taskQueue' | 'closeBatchSize'>, settings: ScheduleSettings): ScheduleOptions {
  const [hour, minute] = settings.time.split(':').map(Number) as [number, number];
  return {
    scheduleId: MONTH_CLOSE_SCHEDULE_ID,
    spec: {
      calendars: [{ dayOfMonth: 1, hour, minute, comment: `the 1st of each month at ${settings.time} ${settings.timezone}` }],
      timezone: settings.timezone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledMonthCloseWorkflow' satisfies (typeof scheduledMonthCloseWorkflow)['name'],
      workflowId: 'month-close-scheduled',
      taskQueue: config.taskQueue,
      // No grace period: the worker's configured one applies (BILLING_CLOSE_GRACE_HOURS).
      args: [{ timezone: settings.timezone, batchSize: config.closeBatchSize }],
      staticSummary: 'Monthly close: the month before the scheduled time',
    },
    policies: {
      // Months are closed one after another, never two at once, and none is dropped.
      overlap: ScheduleOverlapPolicy.BUFFER_ALL,
      // A server down over the 1st still closes the month when it comes back, up to a month late.
      catchupWindow: '31 days',
      pauseOnFailure: false,
    },
    state: { note: 'managed by `billing schedule ensure`' },
  };
}

export async function ensureMonthCloseSchedule(client: Client, config: Pick<Config, 'taskQueue' | 'closeBatchSize'>, settings: ScheduleSettings): Promise<'created' | 'updated'> {
  return ensureSchedule(client, monthCloseScheduleOptions(config, settings));
}

type AbuseScanConfig = Pick<Config, 'taskQueue' | 'abuseScanTime' | 'abuseScanTimezone' | 'abuseScanBatchSize' | 'abuseReminderHours'>;

export function abuseScanScheduleOptions(config: AbuseScanConfig): ScheduleOptions {
  const [hour, minute] = config.abuseScanTime.split(':').map(Number) as [number, number];
  return {
    scheduleId: ABUSE_SCAN_SCHEDULE_ID,
    spec: {
      calendars: [{ hour, minute, comment: `every day at ${config.abuseScanTime} ${config.abuseScanTimezone}` }],
      timezone: config.abuseScanTimezone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'abuseScanWorkflow' satisfies (typeof abuseScanWorkflow)['name'],
      workflowId: 'abuse-scan-scheduled',
      taskQueue: config.taskQueue,
      args: [{ timezone: config.abuseScanTimezone, batchSize: config.abuseScanBatchSize, reminderHours: config.abuseReminderHours }],
      staticSummary: 'Daily abuse scan: the day before the scheduled time',
    },
    policies: {
      // Days are scanned one after another; a missed one is scanned when the server is back.
      overlap: ScheduleOverlapPolicy.BUFFER_ALL,
      catchupWindow: '7 days',
      pauseOnFailure: false,
    },
    state: { note: 'managed by `billing schedule ensure`' },
  };
}

export async function ensureAbuseScanSchedule(client: Client, config: AbuseScanConfig): Promise<'created' | 'updated'> {
  return ensureSchedule(client, abuseScanScheduleOptions(config));
}

/**
 * The Schedule `usage-collector-<source>` (issue 14): every `everySeconds` it starts the source's
 * collector with the source's name alone (its settings and DSN are read by the activity). A run
 * still going when the next is due makes that one skipped, not queued; missed runs are not caught
 * up one by one (the next run collects everything since the watermark).
 */
export function usageCollectorScheduleOptions(config: Pick<Config, 'taskQueue'>, source: { name: string; everySeconds: number; paused: boolean }): ScheduleOptions {
  const id = usageCollectorWorkflowId(source.name);
  return {
    scheduleId: id,
    spec: { intervals: [{ every: source.everySeconds * 1000 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'usageCollectorWorkflow' satisfies (typeof usageCollectorWorkflow)['name'],
      workflowId: id,
      taskQueue: config.taskQueue,
      args: [{ source: source.name }],
      staticSummary: `Collect the new call records of source ${source.name}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false },
    state: { paused: source.paused, note: source.paused ? `paused with \`billing sources pause ${source.name}\`` : 'managed by `billing sources`' },
  };
}

/** Creates the source's schedule or updates it to these settings, paused or not as the source is. */
export async function ensureCollectorSchedule(
  client: Client,
  config: Pick<Config, 'taskQueue'>,
  source: { name: string; everySeconds: number; paused: boolean },
): Promise<'created' | 'updated'> {
  const options = usageCollectorScheduleOptions(config, source);
  const outcome = await ensureSchedule(client, options);
  const handle = client.schedule.getHandle(options.scheduleId);
  const { state } = await handle.describe();
  if (state.paused !== source.paused) await (source.paused ? handle.pause(options.state?.note) : handle.unpause(options.state?.note));
  return outcome;
}

/** Deletes the source's schedule; false when there was none. */
export async function deleteCollectorSchedule(client: Client, source: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(usageCollectorWorkflowId(source)).delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

async function ensureSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  const handle = client.schedule.getHandle(options.scheduleId);
  try {
    await handle.update((previous: ScheduleDescription) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    // Another `ensure` created it meanwhile: update it to these settings.
    if ((error as Error).name === 'ScheduleAlreadyRunning') return ensureSchedule(client, options);
    throw error;
  }
}
