/** The billing worker: runs every workflow and activity on the configured task queue. */
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { bundleWorkflowCode, Runtime, Worker, type Logger, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { ENCRYPTING_FAILURE_CONVERTER_PATH, workerDataConverter } from '../codec/data-converter';
import type { CodecKey } from '../codec/keys';
import { ConfigError, type Config } from '../config';
import type { CollectLimits } from '../db/usage-collect';
import { TRACING_WORKFLOW_MODULES, warningsOnly, workerTracingOptions, type Tracing } from './telemetry';

export interface BillingWorkerDeps {
  config: Pick<Config, 'taskQueue' | 'smtpUrl' | 'mailFrom' | 'billingOpsEmail' | 'supportEmail' | 'workerCachedRuns' | 'closeGraceHours'> &
    Partial<Pick<Config, 'seller' | 'mailLeaseSeconds'>>;
  connection: NativeConnection;
  namespace: string;
  /** Client for activities that start or signal workflows (the close's fan-out). */
  client: Client;
  pool: Pool;
  /**
   * Payload encryption keys, the current one first (codec/keys.ts); none: payloads in clear. The
   * client above must have the same (client/temporal.ts), and a prebuilt bundle must be built with
   * `bundleWorkflows(logger, { encrypted: true })`.
   */
  codecKeys?: readonly CodecKey[] | null;
  /** A prebuilt workflow bundle (tests share one); otherwise the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivities?: number;
  /** How much a usage collector reads per attempt (tests make it small; db/usage-collect.ts has the defaults). */
  collectLimits?: CollectLimits;
  /** Where collectors of asterisk-db sources write the rows the importer rejects (the CLI's worker: BILLING_DATA_DIR/rejects). */
  rejectsDir?: string;
  /** Runs kept in memory between their tasks; else config.workerCachedRuns, else defaultCachedRuns(). */
  maxCachedWorkflows?: number;
  /** Traces of activities and workflows (workers/telemetry.ts); a prebuilt bundle must then be built with `{ tracing: true }`. */
  tracing?: Tracing;
  /** How long activities in hand get to finish on shutdown (default 10 s; tests that are done need not wait). */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

/**
 * How many workflow runs the worker keeps in memory by default: four for each MiB of heap above
 * 512 MiB (14,528 with the 4 GiB heap Node gives a machine of 16 GiB or more).
 *
 * Nearly every run is a subscriber's entity, idle until its month closes, and one takes about
 * 150 KiB of the workflow thread's heap (measured with 500 entities); four a MiB leaves room to
 * spare. The whole process grows by about 370 KiB a cached run (3,000 entities: the SDK's core
 * keeps its own state of each run), so 10,000 subscribers take a worker of about 4.5 GB. The SDK's
 * own default assumes about 1.7 MiB a run (2,311 runs in 4 GiB). At the month close every
 * entity is signalled within minutes, and an entity that is not in the cache is fetched and
 * replayed from its history first: with the SDK's default, closing 10,000 subscribers took
 * 300-360 s on 2 cores, and 221-234 s with all of them cached (`npm run bench -- close`).
 * Set BILLING_WORKER_CACHED_RUNS to at least the number of subscribers a worker serves.
 */
export function defaultCachedRuns(heapLimitBytes = v8.getHeapStatistics().heap_size_limit): number {
  const heapMiB = heapLimitBytes / 1024 / 1024;
  return Math.max(100, Math.floor((heapMiB - 512) * 4));
}

/** The workflow sources, or their compiled JavaScript when this runs from dist/ (bin/billing.js). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Modules evaluated once per workflow thread instead of once per workflow run. Each month of each
 * subscriber is a new run, and a run that evaluated luxon, zod and the core again spent most of the
 * worker's CPU on that (the close benchmark's profile). Only stateless modules belong here, and
 * none that builds zod schemas when it loads (validation, limits): the SDK freezes what it
 * preloads, and a zod schema adds its methods to itself on first use.
 */
export const WORKFLOW_PRELOAD_MODULES: string[] = [
  'luxon',
  'zod',
  ...['money', 'periods', 'policy', 'rating', 'minute-plans'].map((name) => path.join(__dirname, '..', 'billing', `${name}${path.extname(__filename)}`)),
];

/**
 * The workflow bundle as every worker builds it: tests and benchmarks share one per process.
 * `encrypted`: for a worker with codec keys, whose workflows put failure messages in encrypted attributes.
 * `tracing`: the OpenTelemetry workflow interceptors bundled in (a worker with tracing needs them).
 */
export function bundleWorkflows(logger?: Logger, options: { encrypted?: boolean; tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    ...(logger ? { logger } : {}),
    ...(options.encrypted ? { failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH } : {}),
    ...(options.tracing ? { workflowInterceptorModules: TRACING_WORKFLOW_MODULES } : {}),
  });
}

/** What a prebuilt bundle was built with, written beside it as `FILE.json`: a worker refuses a bundle that does not match it. */
export interface WorkflowBundleManifest {
  encrypted: boolean;
  tracing: boolean;
  /** The @temporalio/worker version that bundled it. */
  version: string;
}

function sdkVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's own package.json
  return (require('@temporalio/worker/package.json') as { version: string }).version;
}

/** The manifest of the bundle at `codePath`. */
export function workflowBundleManifestPath(codePath: string): string {
  return `${codePath}.json`;
}

/** Bundles the workflows into `codePath` with its manifest (`billing worker --build-bundle FILE`). */
export async function writeWorkflowBundle(codePath: string, options: { encrypted: boolean; tracing: boolean }, logger?: Logger): Promise<WorkflowBundleManifest> {
  const { code } = await bundleWorkflows(logger ?? warningsOnly(Runtime.instance().logger), options);
  fs.mkdirSync(path.dirname(path.resolve(codePath)), { recursive: true });
  fs.writeFileSync(codePath, code);
  const manifest: WorkflowBundleManifest = { encrypted: options.encrypted, tracing: options.tracing, version: sdkVersion() };
  fs.writeFileSync(workflowBundleManifestPath(codePath), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

/** A configuration error: the command exits as for a bad setting (client/cli.ts). */
export class WorkflowBundleMismatchError extends ConfigError {}

const describeBundle = (m: Omit<WorkflowBundleManifest, 'version'> & { version?: string }): string =>
  `encrypted=${m.encrypted} tracing=${m.tracing}${m.version === undefined ? '' : ` sdk=${m.version}`}`;

/**
 * The prebuilt bundle at `codePath` for a worker with these options, checked against its manifest:
 * a bundle built without the encrypting failure converter, or without the tracing interceptors,
 * would run the workflows wrongly for this worker, so it is refused with both descriptions.
 */
export function prebuiltWorkflowBundle(codePath: string, expected: { encrypted: boolean; tracing: boolean }): { codePath: string } {
  const manifestPath = workflowBundleManifestPath(codePath);
  let manifest: WorkflowBundleManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as WorkflowBundleManifest;
  } catch (err) {
    throw new WorkflowBundleMismatchError(
      `workflow bundle ${codePath} has no readable manifest ${manifestPath} (${(err as Error).message}); build it with \`billing worker --build-bundle ${codePath}\``,
    );
  }
  const wanted = { ...expected, version: sdkVersion() };
  if (manifest.encrypted !== wanted.encrypted || manifest.tracing !== wanted.tracing || manifest.version !== wanted.version) {
    const flags = [wanted.encrypted ? ' --encrypted' : '', wanted.tracing ? ' --tracing' : ''].join('');
    throw new WorkflowBundleMismatchError(
      `workflow bundle ${codePath} was built with ${describeBundle(manifest)} but this worker runs with ${describeBundle(wanted)}; rebuild it with \`billing worker --build-bundle ${codePath}${flags}\` or unset BILLING_WORKFLOW_BUNDLE`,
    );
  }
  if (!fs.existsSync(codePath)) throw new WorkflowBundleMismatchError(`workflow bundle ${codePath} does not exist; build it with \`billing worker --build-bundle ${codePath}\``);
  return { codePath };
}

export async function createBillingWorker(deps: BillingWorkerDeps): Promise<Worker> {
  // Pooled: a few connections, each carrying many messages. Without the pool every email opened its
  // own connection to the mail server, which cost the worker twice the CPU a message and four
  // times the time (measured against smtp-server here, 2,000 invoice emails 50 at a time). An
  // SMTP_URL with pool=false still turns it off.
  const mailer = nodemailer.createTransport({ url: deps.config.smtpUrl, pool: true, maxConnections: 5 });
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.config.taskQueue,
    dataConverter: workerDataConverter(deps.codecKeys ?? null),
    // Bundled here unless given, with the Runtime's logger held to warnings: no webpack statistics in the output.
    workflowBundle:
      deps.workflowBundle ??
      (await bundleWorkflows(warningsOnly(Runtime.instance().logger), { encrypted: (deps.codecKeys?.length ?? 0) > 0, tracing: deps.tracing !== undefined })),
    ...(deps.tracing ? workerTracingOptions(deps.tracing) : {}),
    activities: createActivities({
      pool: deps.pool,
      mailer,
      mailFrom: deps.config.mailFrom,
      temporal: deps.client,
      taskQueue: deps.config.taskQueue,
      billingOpsEmail: deps.config.billingOpsEmail,
      supportEmail: deps.config.supportEmail,
      closeGraceHours: deps.config.closeGraceHours,
      seller: deps.config.seller,
      ...(deps.config.mailLeaseSeconds === undefined ? {} : { mailLeaseMs: deps.config.mailLeaseSeconds * 1000 }),
      collectLimits: deps.collectLimits,
      rejectsDir: deps.rejectsDir,
    }),
    maxConcurrentActivityTaskExecutions: deps.maxConcurrentActivities ?? 50,
    maxCachedWorkflows: deps.maxCachedWorkflows ?? deps.config.workerCachedRuns ?? defaultCachedRuns(),
    // The close's reads, invoices and invoice emails are local activities: the same bound keeps
    // the database pool and the mail server from being asked for more at once.
    maxConcurrentLocalActivityExecutions: deps.maxConcurrentActivities ?? 50,
    // During a close thousands of entities' tasks queue at once, for minutes at 10,000 subscribers.
    // A task waiting on the sticky queue past this timeout is timed out and sent again through the
    // normal queue: work done twice just when there is most to do (the default 10 s did that to a
    // task in eight). A worker that dies leaves its cached runs' tasks waiting this long instead.
    stickyQueueScheduleToStartTimeout: '5 minutes',
    // On shutdown, activities in hand (an email being sent) get this long to finish.
    shutdownGraceTime: deps.shutdownGraceTime ?? '10 seconds',
    // The pooled connections are closed when the worker stops, or they would keep the process alive.
    plugins: [
      {
        name: 'billing-mail-pool',
        runWorker: async (worker, next) => {
          try {
            await next(worker);
          } finally {
            mailer.close();
          }
        },
      },
    ],
  });
}
