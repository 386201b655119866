/** Real Temporal servers from the pinned binaries (no download), and the billing worker on them. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { loadConfig } from '../../config';
import { temporalCliPath, temporalTestServerPath } from '../../stack/binaries';
import { freePort, waitForPort } from '../../stack/processes';
import { bundleWorkflows, createBillingWorker } from '../../workers/worker';
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

/** The dev server with our search attributes; with `ui: true` its web UI is served on a free port too. */
export async function startDevServer(options: { ui?: boolean; uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const ui = options.ui ? { ui: true, uiPort: options.uiPort ?? (await freePort()) } : {};
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath(loadConfig()) }, ip: '127.0.0.1', searchAttributes: SEARCH_ATTRIBUTES, ...ui },
  });
}

/** The dev server and the address of its web UI, once the UI answers. */
export async function startDevServerWithUi(): Promise<{ env: TestWorkflowEnvironment; uiUrl: string }> {
  const uiPort = await freePort();
  const env = await startDevServer({ ui: true, uiPort });
  try {
    await waitForPort(uiPort, 'the Temporal dev server UI', 30_000);
  } catch (error) {
    await env.teardown();
    throw error;
  }
  return { env, uiUrl: `http://127.0.0.1:${uiPort}` };
}

type WorkflowBundle = NonNullable<WorkerOptions['workflowBundle']>;
let bundle: Promise<WorkflowBundle> | undefined;
/**
 * The workflow bundle: the one built once per test run by test/helpers/global-setup.ts, read from
 * its file; built here, once per test file, only when there is none (jest run without its setup).
 */
export function workflowBundle(): Promise<WorkflowBundle> {
  const codePath = process.env.BILLING_TEST_WORKFLOW_BUNDLE;
  bundle ??= codePath ? Promise.resolve({ codePath }) : bundleWorkflows(new DefaultLogger('WARN'));
  return bundle;
}

export const TEST_MAIL_FROM = 'RedConnect Billing <billing@redconnect.test>';
export const TEST_OPS_EMAIL = 'billing-ops@redconnect.test';
export const TEST_SUPPORT_EMAIL = 'support@redconnect.test';

/** `closeGraceHours`: the worker's configured grace period (default: the configuration's default). */
/** `shutdownGraceTime`: how long activities in hand get on shutdown (default the worker's 10 s). */
export async function billingWorker(env: TestWorkflowEnvironment, options: { pool: Pool; smtpUrl: string; taskQueue: string; maxConcurrentActivities?: number; closeGraceHours?: number; shutdownGraceTime?: string }): Promise<Worker> {
  return createBillingWorker({
    config: {
      taskQueue: options.taskQueue, smtpUrl: options.smtpUrl, mailFrom: TEST_MAIL_FROM, billingOpsEmail: TEST_OPS_EMAIL, supportEmail: TEST_SUPPORT_EMAIL,
      closeGraceHours: options.closeGraceHours ?? loadConfig({}).closeGraceHours,
    },
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client: env.client,
    pool: options.pool,
    workflowBundle: await workflowBundle(),
    maxConcurrentActivities: options.maxConcurrentActivities,
    shutdownGraceTime: options.shutdownGraceTime,
  });
}
