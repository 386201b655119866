/** The billing worker: runs every workflow and activity on the configured task queue. */
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { bundleWorkflowCode, Worker, type Logger, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import type { Config } from '../config';

export interface BillingWorkerDeps {
  config: Pick<Config, 'taskQueue' | 'smtpUrl' | 'mailFrom' | 'billingOpsEmail' | 'supportEmail'>;
  connection: NativeConnection;
  namespace: string;
  /** Client for activities that start or signal workflows (the close's fan-out). */
  client: Client;
  pool: Pool;
  /** A prebuilt workflow bundle (tests share one); otherwise the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivities?: number;
  /** Runs kept in memory between their tasks; the SDK's default follows the heap size. */
  maxCachedWorkflows?: number;
}

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
  ...['money', 'periods', 'policy', 'rating', 'minute-plans'].map((name) => path.join(__dirname, '..', 'billing', `${name}.ts`)),
];

/** The workflow bundle as every worker builds it: tests and benchmarks share one per process. */
export function bundleWorkflows(logger?: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: WORKFLOW_PRELOAD_MODULES, ...(logger ? { logger } : {}) });
}

export async function createBillingWorker(deps: BillingWorkerDeps): Promise<Worker> {
  const mailer = nodemailer.createTransport(deps.config.smtpUrl);
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.config.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES } }),
    activities: createActivities({
      pool: deps.pool, mailer, mailFrom: deps.config.mailFrom, temporal: deps.client,
      taskQueue: deps.config.taskQueue, billingOpsEmail: deps.config.billingOpsEmail, supportEmail: deps.config.supportEmail,
    }),
    maxConcurrentActivityTaskExecutions: deps.maxConcurrentActivities ?? 50,
    ...(deps.maxCachedWorkflows ? { maxCachedWorkflows: deps.maxCachedWorkflows } : {}),
    // The close's reads, invoices and invoice emails are local activities: the same bound keeps
    // the database pool and the mail server from being asked for more at once.
    maxConcurrentLocalActivityExecutions: deps.maxConcurrentActivities ?? 50,
    // During a close thousands of entities' tasks queue at once, for minutes at 10,000 subscribers.
    // A task waiting on the sticky queue past this timeout is timed out and sent again through the
    // normal queue: work done twice just when there is most to do (the default 10 s did that to a
    // task in eight). A worker that dies leaves its cached runs' tasks waiting this long instead.
    stickyQueueScheduleToStartTimeout: '5 minutes',
    // On shutdown, activities in hand (an email being sent) get this long to finish.
    shutdownGraceTime: '10 seconds',
  });
}
