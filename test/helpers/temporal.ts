/** Real Temporal servers from the pinned binaries (no download), and the billing worker on them. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from 'pg';
import { loadConfig } from '../../config';
import { temporalCliPath, temporalTestServerPath } from '../../stack/binaries';
import { createBillingWorker, WORKFLOWS_PATH } from '../../workers/worker';
import { ensureSearchAttributes } from '../../client/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath(loadConfig()) } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath(loadConfig()) }, ip: '127.0.0.1', searchAttributes: SEARCH_ATTRIBUTES },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export const TEST_MAIL_FROM = 'RedConnect Billing <billing@redconnect.test>';

export async function billingWorker(env: TestWorkflowEnvironment, options: { pool: Pool; smtpUrl: string; taskQueue: string; maxConcurrentActivities?: number }): Promise<Worker> {
  return createBillingWorker({
    config: { taskQueue: options.taskQueue, smtpUrl: options.smtpUrl, mailFrom: TEST_MAIL_FROM },
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client: env.client,
    pool: options.pool,
    workflowBundle: await workflowBundle(),
    maxConcurrentActivities: options.maxConcurrentActivities,
  });
}
