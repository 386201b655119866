/**
 * The given of a workflow test file: the time-skipping server, a fresh database, an SMTP server in
 * the process and a billing worker on them, started before the file's tests and stopped after.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createTestDatabase, type TestDatabase } from './db';
import { startSmtpServer, type TestSmtpServer } from './smtp';
import { billingWorker, startTimeSkippingServer } from './temporal';

export interface TimeSkippingHarness {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  smtp: TestSmtpServer;
  taskQueue: string;
}

export function useTimeSkippingWorker(taskQueue: string, workerOptions: { closeGraceHours?: number } = {}): TimeSkippingHarness {
  const harness = { taskQueue } as TimeSkippingHarness;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    [harness.env, harness.db, harness.smtp] = await Promise.all([startTimeSkippingServer(), createTestDatabase(), startSmtpServer()]);
    // Stopped once the file's tests are done: an activity still in hand (a terminated close's wait)
    // is cancelled at once instead of after the worker's grace time.
    worker = await billingWorker(harness.env, { pool: harness.db.pool, smtpUrl: harness.smtp.url, taskQueue, shutdownGraceTime: '100 ms', ...workerOptions });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await Promise.all([harness.env?.teardown(), harness.db?.drop(), harness.smtp?.close()]);
  });
  return harness;
}
