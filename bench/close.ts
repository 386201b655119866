/**
 * `npm run bench -- close [--subscribers 10000] [--service-start 2026-10-01] [--activity-slots 50] [--cached-runs N] [--encrypted] [--metrics] [--tracing]`:
 * the month close end to end (DESIGN, "Targets": 10,000 subscribers rated, invoiced and mailed on
 * the dev server within 5 minutes on 2 cores), beside a plain-SQL rating of the same data.
 *
 * Everything is real and in this run: a fresh PostgreSQL, the usage imported from a generated
 * Asterisk file through the importer, the Temporal dev server from the pinned binary, the billing
 * worker in this process, and an SMTP server in this process that counts what it receives.
 * `--encrypted`: every payload encrypted by the codec (codec/), as `billing dev` runs, with a key
 * made for the run, to measure what encryption costs the close.
 */
import fs from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Pool } from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { loadConfig } from '../config';
import { createPool } from '../db/pool';
import { importUsageFile } from '../db/usage-import';
import { temporalCliPath } from '../stack/binaries';
import { clientTracingInterceptors, installRuntime, startTelemetryServer, startTracing, warningsOnly, type TelemetryServer, type Tracing } from '../workers/telemetry';
import { bundleWorkflows, createBillingWorker, defaultCachedRuns } from '../workers/worker';
import { monthCloseWorkflow } from '../workflows/month-close';
import { subscriberWorkflow } from '../workflows/subscriber';
import { CycleStateKey, monthCloseWorkflowId, progressQuery, SEARCH_ATTRIBUTES, subscriberWorkflowId, type MonthCloseProgress } from '../workflows/messages';
import { clientDataConverter } from '../codec/data-converter';
import { newKeyLine, parseCodecKeys } from '../codec/keys';
import { benchSubscribers, writeAsteriskFile, type GeneratedSubscriber } from './asterisk-generator';
import { option, perSecond, say, textOption, withDatabase } from './common';

const PERIOD = '2026-10';
const TARGET_SECONDS = 5 * 60;
const TARGET_SUBSCRIBERS = 10_000;
const TASK_QUEUE = 'billing-bench';
/** The default policy the baseline rates by (billing/policy.ts INITIAL_POLICY). */
const ALLOWANCE_SECONDS = 2400 * 60;
const OVERAGE_CENTS_PER_MINUTE = 5;

const ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
];
const FEES_CENTS = [0, 999, 1999, 2999, 4500];

/**
 * The issue's data: a month of usage for every subscriber, about a third over the limit. The
 * generator picks a subscriber for each call uniformly (about 30 rows each); every third
 * subscriber's answered calls last 90 to 180 minutes, which takes most of them past the 2,400
 * included minutes.
 */
function heavyUsers(subscribers: GeneratedSubscriber[]): Set<string> {
  return new Set(subscribers.filter((_, i) => i % 3 === 0).map((s) => s.id));
}

async function addSubscribers(pool: Pool, subscribers: GeneratedSubscriber[], serviceStart: string): Promise<void> {
  await pool.query(
    `INSERT INTO subscribers (id, name, email, timezone, monthly_fee_cents, service_start)
     SELECT id, 'Subscriber ' || id, id || '@bench.test', zone, fee, $4::date FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(id, zone, fee)`,
    [subscribers.map((s) => s.id), subscribers.map((_, i) => ZONES[i % ZONES.length]), subscribers.map((_, i) => FEES_CENTS[i % FEES_CENTS.length]), serviceStart],
  );
  await pool.query('INSERT INTO subscriber_numbers (number, subscriber_id) SELECT * FROM unnest($1::text[], $2::text[])', [
    subscribers.map((s) => s.number),
    subscribers.map((s) => s.id),
  ]);
}

/** A real SMTP server that accepts everything and only counts the messages it received in full. */
async function countingSmtpServer(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received += 1;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The naive way: one SQL statement rating every subscriber's October, into a scratch table. */
async function plainSqlRating(pool: Pool): Promise<{ subscribers: number; seconds: number }> {
  await pool.query(`CREATE UNLOGGED TABLE bench_baseline_rating (subscriber_id text PRIMARY KEY, used_seconds bigint NOT NULL,
    overage_minutes integer NOT NULL, total_cents bigint NOT NULL)`);
  const started = performance.now();
  const { rowCount } = await pool.query(
    `INSERT INTO bench_baseline_rating (subscriber_id, used_seconds, overage_minutes, total_cents)
     SELECT s.id, u.seconds, o.minutes, s.monthly_fee_cents + o.minutes * $3::bigint
       FROM subscribers s
       CROSS JOIN LATERAL (SELECT coalesce(sum(c.billable_seconds), 0)::bigint AS seconds FROM calls c
                            WHERE c.subscriber_id = s.id AND c.period = $1 AND c.counted) u
       CROSS JOIN LATERAL (SELECT greatest(0, ceil((u.seconds - $2::bigint) / 60.0))::integer AS minutes) o
      WHERE s.status <> 'terminated' AND s.service_start < (to_date($1, 'YYYY-MM') + interval '1 month')`,
    [PERIOD, ALLOWANCE_SECONDS, OVERAGE_CENTS_PER_MINUTE],
  );
  return { subscribers: rowCount ?? 0, seconds: (performance.now() - started) / 1000 };
}

interface CrossCheck {
  matching: number;
  mismatches: number;
  examples: string[];
  workflowTotalCents: number;
  baselineTotalCents: number;
  overSubscribers: number;
}

/** The invoices the workflows wrote for the period against the baseline's, subscriber by subscriber. */
async function crossCheck(pool: Pool): Promise<CrossCheck> {
  const {
    rows: [totals],
  } = await pool.query(
    `SELECT count(*) FILTER (WHERE i.id IS NOT NULL AND i.used_seconds = b.used_seconds AND i.overage_minutes = b.overage_minutes
                              AND i.total_cents = b.total_cents)::int AS matching,
            (SELECT coalesce(sum(total_cents), 0) FROM invoices WHERE period = $1)::bigint AS "workflowTotalCents",
            coalesce(sum(b.total_cents), 0)::bigint AS "baselineTotalCents",
            count(*) FILTER (WHERE b.overage_minutes > 0)::int AS "overSubscribers"
       FROM bench_baseline_rating b LEFT JOIN invoices i ON i.subscriber_id = b.subscriber_id AND i.period = $1`,
    [PERIOD],
  );
  const { rows: different } = await pool.query(
    `SELECT coalesce(b.subscriber_id, i.subscriber_id) AS id, b.used_seconds AS b_seconds, b.overage_minutes AS b_minutes, b.total_cents AS b_cents,
            i.used_seconds AS i_seconds, i.overage_minutes AS i_minutes, i.total_cents AS i_cents
       FROM bench_baseline_rating b FULL JOIN (SELECT * FROM invoices WHERE period = $1) i ON i.subscriber_id = b.subscriber_id
      WHERE b.subscriber_id IS NULL OR i.id IS NULL OR i.used_seconds <> b.used_seconds OR i.overage_minutes <> b.overage_minutes
         OR i.total_cents <> b.total_cents
      ORDER BY 1`,
    [PERIOD],
  );
  const side = (seconds: unknown, minutes: unknown, cents: unknown): string => (cents === null ? 'none' : `${seconds} s, ${minutes} min over, ${cents} ¢`);
  return {
    matching: totals.matching,
    mismatches: different.length,
    examples: different.slice(0, 5).map((r) => `${r.id}: workflow ${side(r.i_seconds, r.i_minutes, r.i_cents)}; SQL ${side(r.b_seconds, r.b_minutes, r.b_cents)}`),
    workflowTotalCents: totals.workflowTotalCents,
    baselineTotalCents: totals.baselineTotalCents,
    overSubscribers: totals.overSubscribers,
  };
}

/** CPU seconds used so far by this process and its descendants (dev server, embedded PostgreSQL), by command name. */
function cpuByCommand(): Map<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const processes: { pid: number; ppid: number; comm: string; cpu: number }[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return new Map();
  }
  for (const entry of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state (field 3): utime, stime, cutime, cstime are fields 14 to 17.
      const cpu = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
      processes.push({ pid: Number(entry), ppid: Number(fields[1]), comm, cpu });
    } catch {
      // the process ended meanwhile
    }
  }
  const ours = new Set([process.pid]);
  for (let grown = true; grown;) {
    grown = false;
    for (const p of processes)
      if (!ours.has(p.pid) && ours.has(p.ppid)) {
        ours.add(p.pid);
        grown = true;
      }
  }
  const byCommand = new Map<string, number>();
  for (const p of processes) {
    if (!ours.has(p.pid)) continue;
    const name = p.pid === process.pid ? 'bench process (worker, SMTP server)' : p.comm;
    byCommand.set(name, (byCommand.get(name) ?? 0) + p.cpu);
  }
  return byCommand;
}

/** Busy and total CPU time of the whole machine, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  try {
    const values = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

interface Sample {
  seconds: number;
  progress?: MonthCloseProgress;
  /** From the database: the workflow's own progress is refreshed only when its wait activity returns. */
  periodInvoices: number;
  periodEmailed: number;
  allInvoices: number;
  mails: number;
  machineBusy: number;
  inFlightActivities: number;
  inFlightActivations: number;
  cachedWorkflows: number;
}

interface Timing {
  count: number;
  queueMs: number[];
  runMs: number[];
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const ms = (value: number): string => `${Math.round(value)} ms`;

/**
 * Where a subscriber's close spends its time, from the histories of a sample of subscribers: for
 * each activity type and for workflow tasks, the wait in the task queue (scheduled → started) and
 * the run (started → completed); each sampled subscriber's wait from the close's start until its
 * cycle was first signalled, and until its last invoice was mailed; and the close's own activities.
 */
async function historySample(env: TestWorkflowEnvironment, ids: string[], closeStartedMs: number): Promise<string[]> {
  const timings = new Map<string, Timing>();
  const firstSignalS: number[] = [];
  const doneS: number[] = [];
  const troubles = { workflowTaskTimeouts: 0, workflowTaskFailures: 0, activityRetries: 0, activityTimeouts: 0, activityFailures: 0, runs: 0, events: 0 };
  const timing = (name: string): Timing => {
    let t = timings.get(name);
    if (!t) timings.set(name, (t = { count: 0, queueMs: [], runMs: [] }));
    return t;
  };
  /** Reads every run of a workflow into the timings; returns when it was first asked to close and when its last email went out. */
  const readRuns = async (workflowId: string, prefix: string): Promise<{ firstStart: number; lastEmailDone: number }> => {
    let firstStart = Infinity;
    let lastEmailDone = 0;
    for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const events = (history.events ?? []) as temporal.api.history.v1.IHistoryEvent[];
      if (!prefix) {
        troubles.runs += 1;
        troubles.events += events.length;
      }
      const at = new Map<number, { time: number; name?: string }>();
      let firstTask = true;
      for (const e of events) {
        const time = tsToMs(e.eventTime);
        at.set(Number(e.eventId), { time, name: e.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined });
        if (!prefix) {
          if (e.workflowTaskTimedOutEventAttributes) troubles.workflowTaskTimeouts += 1;
          if (e.workflowTaskFailedEventAttributes) troubles.workflowTaskFailures += 1;
          if (e.activityTaskTimedOutEventAttributes) troubles.activityTimeouts += 1;
          if (e.activityTaskFailedEventAttributes) troubles.activityFailures += 1;
          if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) troubles.activityRetries += 1;
        }
        if (e.workflowTaskCompletedEventAttributes && !prefix) {
          const a = e.workflowTaskCompletedEventAttributes;
          const scheduled = at.get(Number(a.scheduledEventId))!.time;
          const started = at.get(Number(a.startedEventId))!.time;
          const t = timing(firstTask ? '(1st workflow task)' : '(workflow task)');
          firstTask = false;
          t.count += 1;
          t.queueMs.push(started - scheduled);
          t.runMs.push(time - started);
        }
        if (e.workflowExecutionSignaledEventAttributes?.signalName === 'closeCycle') firstStart = Math.min(firstStart, time);
        // The invoice email is a local activity since the close-in-one-read patch: the run ends once it is sent.
        if (e.workflowExecutionContinuedAsNewEventAttributes && !prefix) lastEmailDone = Math.max(lastEmailDone, time);
        if (e.activityTaskCompletedEventAttributes) {
          const a = e.activityTaskCompletedEventAttributes;
          const scheduled = at.get(Number(a.scheduledEventId))!;
          const started = at.get(Number(a.startedEventId))!.time;
          const t = timing(`${prefix}${scheduled.name ?? '?'}`);
          t.count += 1;
          t.queueMs.push(started - scheduled.time);
          t.runMs.push(time - started);
          if (scheduled.name === 'deliverEmail') lastEmailDone = Math.max(lastEmailDone, time);
        }
      }
    }
    return { firstStart, lastEmailDone };
  };
  for (const id of ids) {
    const { firstStart, lastEmailDone } = await readRuns(subscriberWorkflowId(id), '');
    if (Number.isFinite(firstStart)) firstSignalS.push((firstStart - closeStartedMs) / 1000);
    if (lastEmailDone) doneS.push((lastEmailDone - closeStartedMs) / 1000);
  }
  await readRuns(monthCloseWorkflowId(PERIOD), 'close: ');
  const lines = [`  where the time goes, from the histories of ${ids.length} sampled subscribers (every run; queue = scheduled → started, run = started → completed):`];
  for (const [name, t] of [...timings].sort((a, b) => a[0].localeCompare(b[0]))) {
    lines.push(
      `    ${name.padEnd(26)} ×${String(t.count).padEnd(4)} queue p50 ${ms(percentile(t.queueMs, 0.5)).padStart(8)}  p95 ${ms(percentile(t.queueMs, 0.95)).padStart(8)}` +
        `   run p50 ${ms(percentile(t.runMs, 0.5)).padStart(8)}  p95 ${ms(percentile(t.runMs, 0.95)).padStart(8)}`,
    );
  }
  const sec = (v: number): string => `${v.toFixed(1)} s`;
  lines.push(
    `    ${troubles.runs} runs, ${troubles.events} events (${(troubles.events / Math.max(1, troubles.runs)).toFixed(0)} a run); workflow tasks timed out ${troubles.workflowTaskTimeouts},` +
      ` failed ${troubles.workflowTaskFailures}; activities timed out ${troubles.activityTimeouts}, failed ${troubles.activityFailures}, retried ${troubles.activityRetries}`,
  );
  lines.push(
    `    after the close started, a sampled subscriber was first signalled at p50 ${sec(percentile(firstSignalS, 0.5))} (max ${sec(Math.max(0, ...firstSignalS))}),` +
      ` and its last invoice mailed at p50 ${sec(percentile(doneS, 0.5))} (max ${sec(Math.max(0, ...doneS))});` +
      ` signalled → mailed p50 ${sec(
        percentile(
          doneS.map((d, i) => d - (firstSignalS[i] ?? 0)),
          0.5,
        ),
      )}`,
  );
  return lines;
}

/**
 * Starts every subscriber's entity as `billing subscribers add` does (its onboarding's
 * startSubscriberCycle: at the service start's month, an entity already running kept), and waits
 * until each has settled into its open month: at a month close the entities are already running.
 * Started directly rather than through `onboard-subscriber-<id>`: the subscribers are written in
 * bulk by SQL, and the benchmark measures the close, not onboarding. Returns seconds.
 */
async function startEntities(env: TestWorkflowEnvironment, subscribers: GeneratedSubscriber[], serviceStart: string): Promise<number> {
  say(`starting ${subscribers.length.toLocaleString('en')} subscriber entities, as \`billing subscribers add\` does`);
  const started = performance.now();
  let next = 0;
  const starter = async (): Promise<void> => {
    while (next < subscribers.length) {
      const subscriber = subscribers[next++]!;
      await env.client.workflow.start(subscriberWorkflow, {
        workflowId: subscriberWorkflowId(subscriber.id),
        taskQueue: TASK_QUEUE,
        args: [{ subscriberId: subscriber.id, period: serviceStart.slice(0, 7) }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Billing cycle of subscriber ${subscriber.id}`,
      });
    }
  };
  await Promise.all(Array.from({ length: 32 }, starter));
  const query = `WorkflowType = 'subscriberWorkflow' AND ExecutionStatus = 'Running' AND ${CycleStateKey.name} = 'open'`;
  for (let waited = 0; (await env.client.workflow.count(query)).count < subscribers.length; waited += 1) {
    if (waited > 600) throw new Error(`the subscriber entities did not all settle within 10 minutes: ${(await env.client.workflow.count(query)).count} open`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return (performance.now() - started) / 1000;
}

function monthsBetween(fromDay: string, period: string): number {
  const [fy, fm] = fromDay.split('-').map(Number) as [number, number];
  const [py, pm] = period.split('-').map(Number) as [number, number];
  return (py - fy) * 12 + (pm - fm) + 1;
}

export async function benchClose(): Promise<void> {
  const count = option('subscribers', TARGET_SUBSCRIBERS);
  const serviceStart = textOption('service-start', '2026-10-01', /^2026-(0[1-9]|10)-01$/);
  const activitySlots = option('activity-slots', 50);
  const codecKeys = process.argv.includes('--encrypted') ? parseCodecKeys(newKeyLine('bench'), 'the benchmark key') : null;
  const cachedRuns = process.argv.includes('--cached-runs') ? option('cached-runs', 1) : undefined;
  const months = monthsBetween(serviceStart, PERIOD);
  const rows = count * 30;
  const subscribers = benchSubscribers(count);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-files-'));
  // --metrics: as a worker with BILLING_METRICS_PORT runs: the SDK's exporter on, /metrics scraped
  // every 15 s. --tracing: as one with OTEL_EXPORTER_OTLP_ENDPOINT: every span made and handed to a
  // batch processor (whose exporter drops them: the cost measured is the worker's, not a collector's).
  const metrics = process.argv.includes('--metrics');
  const traced = process.argv.includes('--tracing');
  const runtime = metrics ? await installRuntime({ metrics: true, logFormat: 'text', logLevel: 'WARN' }) : undefined;
  if (!metrics) Runtime.install({ logger: new DefaultLogger('WARN') });
  const tracing: Tracing | undefined = traced
    ? startTracing(new BatchSpanProcessor({ export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined }), 'billing-bench')
    : undefined;
  const problems: string[] = [];
  const config = loadConfig();
  try {
    const file = path.join(dir, 'Master.csv');
    say(`generating ${rows.toLocaleString('en')} Asterisk rows of ${PERIOD} for ${count.toLocaleString('en')} subscribers`);
    await writeAsteriskFile(file, { rows, subscribers, period: PERIOD, longCallers: heavyUsers(subscribers) });
    await withDatabase(async (url) => {
      const pool = createPool(url, 4);
      const workerPool = createPool(url, 20);
      let smtp: Awaited<ReturnType<typeof countingSmtpServer>> | undefined;
      let env: TestWorkflowEnvironment | undefined;
      let stopOnSignal = (): unknown => undefined;
      let endpoint: TelemetryServer | undefined;
      let scraping: NodeJS.Timeout | undefined;
      try {
        await addSubscribers(pool, subscribers, serviceStart);
        say(`importing the usage (service start ${serviceStart}, ${ZONES.length} time zones)`);
        const importStarted = performance.now();
        const imported = await importUsageFile(pool, { file, format: 'asterisk', timezone: 'UTC', source: 'bench-close' });
        say(
          `  ${imported.rowsRead.toLocaleString('en')} rows, ${imported.counted.toLocaleString('en')} counted, ${imported.unmatched} unmatched,` +
            ` ${imported.rejected} rejected in ${((performance.now() - importStarted) / 1000).toFixed(1)} s`,
        );
        await pool.query('ANALYZE');

        say('baseline: one SQL statement rating every subscriber');
        const baseline = await plainSqlRating(pool);

        say('starting the SMTP server, the Temporal dev server and the worker');
        const workflowBundle = await bundleWorkflows(warningsOnly(Runtime.instance().logger), { encrypted: codecKeys !== null, tracing: traced });
        [smtp, env] = await Promise.all([
          countingSmtpServer(),
          TestWorkflowEnvironment.createLocal({
            ...(codecKeys ? { client: { dataConverter: clientDataConverter(codecKeys) } } : {}),
            server: { executable: { type: 'existing-path', path: temporalCliPath(config) }, ip: '127.0.0.1', searchAttributes: SEARCH_ATTRIBUTES },
          }),
        ]);
        const temporalEnv = env;
        const mailServer = smtp;
        // Interrupted (Ctrl-C), the dev server is stopped rather than left running without us.
        const interrupted = (signal: NodeJS.Signals): void => {
          say(`${signal}: stopping the Temporal dev server`);
          void temporalEnv.teardown().finally(() => {
            fs.rmSync(dir, { recursive: true, force: true });
            process.exit(130);
          });
        };
        process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
        stopOnSignal = () => process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
        const worker: Worker = await createBillingWorker({
          // The rest of the configuration (internal addresses) as the environment gives it.
          config: { ...config, taskQueue: TASK_QUEUE, smtpUrl: mailServer.url, mailFrom: 'RedConnect Billing <billing@bench.test>' },
          connection: temporalEnv.nativeConnection,
          namespace: temporalEnv.namespace ?? 'default',
          client: tracing
            ? new Client({
                connection: temporalEnv.connection,
                namespace: temporalEnv.namespace ?? 'default',
                interceptors: clientTracingInterceptors(tracing),
                ...(codecKeys ? { dataConverter: clientDataConverter(codecKeys) } : {}),
              })
            : temporalEnv.client,
          pool: workerPool,
          codecKeys,
          workflowBundle,
          ...(tracing ? { tracing } : {}),
          maxConcurrentActivities: activitySlots,
          ...(cachedRuns ? { maxCachedWorkflows: cachedRuns } : {}),
        });

        endpoint = runtime
          ? await startTelemetryServer({ host: '127.0.0.1', port: 0, pool, sdkMetricsUrl: runtime.sdkMetricsUrl, workerState: () => worker.getState() })
          : undefined;
        const scrapeUrl = `${endpoint?.url}/metrics`;
        scraping = endpoint
          ? setInterval(
              () =>
                void fetch(scrapeUrl)
                  .then((r) => r.text())
                  .catch(() => undefined),
              15_000,
            )
          : undefined;
        if (endpoint) say(`metrics on: ${endpoint.url}/metrics scraped every 15 s`);
        if (tracing) say('tracing on: every span into a batch processor');
        await worker.runUntil(async () => {
          const onboarding = await startEntities(temporalEnv, subscribers, serviceStart);
          say(`  ${count.toLocaleString('en')} entities running and waiting after ${onboarding.toFixed(1)} s (not part of the close's time)`);
          say(
            `closing ${PERIOD} for ${count.toLocaleString('en')} subscribers (${activitySlots} activity slots, worker pool of 20 connections, cache of ${(cachedRuns ?? config.workerCachedRuns ?? defaultCachedRuns()).toLocaleString('en')} runs${codecKeys ? ', payloads encrypted' : ''})`,
          );
          const cpuBefore = cpuByCommand();
          const machineBefore = machineCpu();
          const eluBefore = performance.eventLoopUtilization();
          const started = performance.now();
          const startedMs = Date.now();
          const handle = await temporalEnv.client.workflow.start(monthCloseWorkflow, {
            workflowId: monthCloseWorkflowId(PERIOD),
            taskQueue: TASK_QUEUE,
            args: [{ period: PERIOD, batchSize: 500 }],
          });
          const result = handle.result();
          let finished = false;
          result.then(
            () => {
              finished = true;
            },
            () => {
              finished = true;
            },
          );
          const samples: Sample[] = [];
          let previous = { seconds: 0, allInvoices: 0 };
          let machineLast = machineBefore;
          while (!finished) {
            await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
            if (finished) break;
            const seconds = (performance.now() - started) / 1000;
            const progress = await handle.query(progressQuery).catch(() => undefined);
            const {
              rows: [db],
            } = await pool.query(
              `SELECT count(*) FILTER (WHERE i.period = $1)::int AS "periodInvoices",
                      count(*) FILTER (WHERE i.period = $1 AND o.status = 'sent')::int AS "periodEmailed", count(*)::int AS "allInvoices"
                 FROM invoices i LEFT JOIN email_outbox o ON o.idempotency_key = 'invoice:' || i.id`,
              [PERIOD],
            );
            const status = worker.getStatus();
            const machineNow = machineCpu();
            const sample: Sample = {
              seconds,
              progress,
              ...db,
              mails: mailServer.received(),
              inFlightActivities: status.numInFlightActivities,
              inFlightActivations: status.numInFlightWorkflowActivations,
              cachedWorkflows: status.numCachedWorkflows,
              machineBusy: machineNow.total > machineLast.total ? (machineNow.busy - machineLast.busy) / (machineNow.total - machineLast.total) : 0,
            };
            machineLast = machineNow;
            samples.push(sample);
            if (samples.length % 2 === 1) continue; // a line every 10 s
            const rate = (sample.allInvoices - previous.allInvoices) / (seconds - previous.seconds);
            say(
              `  ${seconds.toFixed(0).padStart(4)} s  ${progress?.phase ?? '?'}: requested ${progress?.requested ?? '?'}; ${PERIOD} invoiced ${sample.periodInvoices}, mailed ${sample.periodEmailed};` +
                ` invoices of every month ${sample.allInvoices} (${Math.round(rate)}/s now), mails received ${sample.mails}; in flight: activities ${sample.inFlightActivities},` +
                ` workflow activations ${sample.inFlightActivations}; cached workflows ${sample.cachedWorkflows}; machine ${(sample.machineBusy * 100).toFixed(0)} % busy`,
            );
            previous = { seconds, allInvoices: sample.allInvoices };
          }
          const summary = await result;
          const elapsed = (performance.now() - started) / 1000;
          const elu = performance.eventLoopUtilization(eluBefore);
          const machineAfter = machineCpu();
          const cpuAfter = cpuByCommand();
          const expectedMails = count * months;
          for (let waited = 0; mailServer.received() < expectedMails && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
          const mails = mailServer.received();

          const {
            rows: [db],
          } = await pool.query(
            `SELECT (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(*) FROM invoices WHERE period = $1)::int AS "periodInvoices",
                    (SELECT count(*) FROM email_outbox WHERE status = 'sent')::int AS sent,
                    (SELECT count(*) FROM email_outbox WHERE status = 'sent' AND purpose = 'invoice')::int AS "invoiceMails",
                    (SELECT coalesce(string_agg(purpose || ' ' || n, ', '), 'none') FROM (SELECT purpose, count(*) AS n FROM email_outbox
                      WHERE purpose <> 'invoice' GROUP BY purpose ORDER BY purpose) p) AS "otherMails"`,
            [PERIOD],
          );
          if (summary.subscribers !== count || summary.invoices !== count || summary.emailed !== count || !summary.complete) {
            problems.push(
              `the close reported ${summary.subscribers} subscribers, ${summary.invoices} invoices, ${summary.emailed} emailed (complete: ${summary.complete}); expected ${count} each`,
            );
          }
          if (db.periodInvoices !== count) problems.push(`${db.periodInvoices} invoices for ${PERIOD} in the database, expected ${count}`);
          if (db.invoices !== expectedMails || db.invoiceMails !== expectedMails)
            problems.push(`${db.invoices} invoices in all in the database, ${db.invoiceMails} invoice emails sent; expected ${expectedMails}`);
          if (mails !== db.sent) problems.push(`the SMTP server received ${mails} mails, the outbox marks ${db.sent} sent`);
          const check = await crossCheck(pool);
          if (check.mismatches > 0) problems.push(`${check.mismatches} subscribers' ${PERIOD} invoices differ from the plain-SQL rating: ${check.examples.join('; ')}`);

          const sampleIds = Array.from({ length: Math.min(20, count) }, (_, i) => subscribers[Math.floor((i * count) / Math.min(20, count))]!.id);
          const where = await historySample(temporalEnv, sampleIds, startedMs);

          const cpuLines = [...cpuAfter]
            .map(([name, after]) => [name, after - (cpuBefore.get(name) ?? 0)] as const)
            .filter(([, used]) => used >= 0.5)
            .sort((a, b) => b[1] - a[1])
            .map(([name, used]) => `${name} ${used.toFixed(0)} s (${(used / elapsed).toFixed(2)} cores, ${Math.round((used * 1000) / count)} ms a subscriber)`);
          const busy = machineAfter.total > machineBefore.total ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) : 0;
          const ourCpu = [...cpuAfter].reduce((sum, [name, after]) => sum + after - (cpuBefore.get(name) ?? 0), 0);
          const otherCpu = (machineAfter.busy - machineBefore.busy) / 100 - ourCpu;
          const requestedAt = samples.find((s) => s.progress && s.progress.phase !== 'requesting')?.seconds;
          const money = (cents: number): string => (cents / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
          const verdict =
            count === TARGET_SUBSCRIBERS
              ? elapsed <= TARGET_SECONDS
                ? 'within'
                : 'OVER'
              : `${TARGET_SUBSCRIBERS.toLocaleString('en')} at this rate would take ${((elapsed * TARGET_SUBSCRIBERS) / count).toFixed(0)} s`;
          const step = Math.max(1, Math.ceil(samples.length / 10));
          const timeline = samples
            .filter((_, i) => i % step === step - 1)
            .map((s) => `${s.seconds.toFixed(0)} s: ${s.periodEmailed}`)
            .join(', ');
          const lines = [
            '',
            `close benchmark: ${count.toLocaleString('en')} subscribers (service start ${serviceStart}, ${ZONES.length} zones), ${imported.counted.toLocaleString('en')} counted calls in ${PERIOD}, ${os.cpus().length} cores`,
            `  month close end to end (dev server): ${perSecond(count, elapsed)} subscribers/s  (${elapsed.toFixed(1)} s; target ${TARGET_SECONDS} s: ${verdict})`,
            `    ${summary.invoices} invoices and ${summary.emailed} emailed for ${PERIOD}; ${db.invoices} invoices in all (${months} month${months > 1 ? 's' : ''} a subscriber since service start),` +
              ` ${mails} mails received by the SMTP server` +
              ` (${db.invoiceMails} invoices; other mails: ${db.otherMails})`,
            `    every subscriber signalled after ${requestedAt === undefined ? '?' : `~${requestedAt.toFixed(0)}`} s; ${PERIOD} invoices mailed over time: ${timeline || '-'}`,
            `  baseline, one SQL statement:         ${perSecond(baseline.subscribers, baseline.seconds)} subscribers/s  (${baseline.subscribers.toLocaleString('en')} rated in ${(baseline.seconds * 1000).toFixed(0)} ms)`,
            `  cross-check, ${PERIOD} invoices against the SQL rating: ${check.matching.toLocaleString('en')} of ${count.toLocaleString('en')} equal (seconds, overage minutes, total),` +
              ` ${check.mismatches} differ; totals ${money(check.workflowTotalCents)} vs ${money(check.baselineTotalCents)} USD; ${check.overSubscribers} subscribers over the allowance`,
            ...check.examples.map((e) => `    ${e}`),
            `  CPU during the close: machine ${(busy * 100).toFixed(0)} % busy; ${cpuLines.join(', ')}; processes not of this run ${Math.max(0, otherCpu).toFixed(0)} s;` +
              ` the worker's main thread ${(elu.utilization * 100).toFixed(0)} % busy`,
            ...where,
            `  the benchmark process (worker, SMTP server): peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB, heap limit ${Math.round(v8.getHeapStatistics().heap_size_limit / 1048576)} MB`,
            `  target: ${TARGET_SUBSCRIBERS.toLocaleString('en')} subscribers within ${TARGET_SECONDS} s on 2 cores (${perSecond(TARGET_SUBSCRIBERS, TARGET_SECONDS)} subscribers/s)`,
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        });
      } finally {
        stopOnSignal();
        clearInterval(scraping);
        await endpoint?.close();
        await tracing?.shutdown();
        await env?.teardown();
        await smtp?.close();
        await workerPool.end();
        await pool.end();
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`the close benchmark's checks failed:\n  ${problems.join('\n  ')}`);
}
