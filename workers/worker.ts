/** The billing worker: runs every workflow and activity on the configured task queue. */
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
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
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createBillingWorker(deps: BillingWorkerDeps): Promise<Worker> {
  const mailer = nodemailer.createTransport(deps.config.smtpUrl);
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.config.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({
      pool: deps.pool, mailer, mailFrom: deps.config.mailFrom, temporal: deps.client,
      taskQueue: deps.config.taskQueue, billingOpsEmail: deps.config.billingOpsEmail, supportEmail: deps.config.supportEmail,
    }),
    maxConcurrentActivityTaskExecutions: deps.maxConcurrentActivities ?? 50,
    // On shutdown, activities in hand (an email being sent) get this long to finish.
    shutdownGraceTime: '10 seconds',
  });
}
