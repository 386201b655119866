/** Real Temporal servers from the pinned binaries (no download), and the billing worker on them. */
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { loadConfig } from '../../config';
import { temporalCliPath, temporalTestServerPath } from '../../stack/binaries';
import { freePort, waitForPort } from '../../stack/processes';
import { bundleWorkflows, createBillingWorker } from '../../workers/worker';
import { ensureSearchAttributes } from '../../client/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages';
import { clientDataConverter } from '../../codec/data-converter';
import type { CodecKey } from '../../codec/keys';
import type { CollectLimits } from '../../db/usage-collect';

let runtimeInstalled = false;
function quietRuntime(): void {
  // A test file that installs its own (workers/telemetry.ts installRuntime, with metrics) keeps it.
  if (runtimeInstalled || Runtime._instance !== undefined) return;
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

/**
 * The dev server with our search attributes; with `ui: true` its web UI is served on a free port
 * too, decoding payloads through `uiCodecEndpoint` when one is given.
 */
export async function startDevServer(options: { ui?: boolean; uiPort?: number; uiCodecEndpoint?: string } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const ui = options.ui ? { ui: true, uiPort: options.uiPort ?? (await freePort()) } : {};
  const extraArgs = options.uiCodecEndpoint ? { extraArgs: ['--ui-codec-endpoint', options.uiCodecEndpoint] } : {};
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath(loadConfig()) }, ip: '127.0.0.1', searchAttributes: SEARCH_ATTRIBUTES, ...ui, ...extraArgs },
  });
}

/** The dev server and the address of its web UI, once the UI answers; `uiPort` when the caller chose it (freePort()). */
export async function startDevServerWithUi(options: { uiPort?: number; uiCodecEndpoint?: string } = {}): Promise<{ env: TestWorkflowEnvironment; uiUrl: string }> {
  const uiPort = options.uiPort ?? (await freePort());
  const env = await startDevServer({ ui: true, uiPort, uiCodecEndpoint: options.uiCodecEndpoint });
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
let encryptedBundle: Promise<WorkflowBundle> | undefined;
/**
 * The workflow bundle: the one built once per test run by test/helpers/global-setup.ts, read from
 * its file; built here, once per test file, only when there is none (jest run without its setup).
 * `encrypted`: for a worker with codec keys, built once per test file that asks (two do).
 */
export function workflowBundle(options: { encrypted?: boolean } = {}): Promise<WorkflowBundle> {
  if (options.encrypted) {
    encryptedBundle ??= bundleWorkflows(new DefaultLogger('WARN'), { encrypted: true });
    return encryptedBundle;
  }
  const codePath = process.env.BILLING_TEST_WORKFLOW_BUNDLE;
  bundle ??= codePath ? Promise.resolve({ codePath }) : bundleWorkflows(new DefaultLogger('WARN'));
  return bundle;
}

/** A client of the test server with the payload codec of these keys (as client/temporal.ts makes the CLI's). */
export function clientWithKeys(env: TestWorkflowEnvironment, keys: readonly CodecKey[] | null): Client {
  return new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: clientDataConverter(keys) });
}

export const TEST_MAIL_FROM = 'RedConnect Billing <billing@redconnect.test>';
export const TEST_OPS_EMAIL = 'billing-ops@redconnect.test';
export const TEST_SUPPORT_EMAIL = 'support@redconnect.test';

/** `closeGraceHours`: the worker's configured grace period (default: the configuration's default). */
/** `codecKeys`: payloads encrypted with these (the current one first), by the worker and the client its activities use. */
/** `shutdownGraceTime`: how long activities in hand get on shutdown (default the worker's 10 s). */
export async function billingWorker(
  env: TestWorkflowEnvironment,
  options: {
    pool: Pool;
    smtpUrl: string;
    taskQueue: string;
    maxConcurrentActivities?: number;
    closeGraceHours?: number;
    codecKeys?: readonly CodecKey[];
    shutdownGraceTime?: string;
    collectLimits?: CollectLimits;
  },
): Promise<Worker> {
  return createBillingWorker({
    config: {
      taskQueue: options.taskQueue,
      smtpUrl: options.smtpUrl,
      mailFrom: TEST_MAIL_FROM,
      billingOpsEmail: TEST_OPS_EMAIL,
      supportEmail: TEST_SUPPORT_EMAIL,
      closeGraceHours: options.closeGraceHours ?? loadConfig({}).closeGraceHours,
    },
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client: options.codecKeys ? clientWithKeys(env, options.codecKeys) : env.client,
    pool: options.pool,
    codecKeys: options.codecKeys,
    workflowBundle: await workflowBundle({ encrypted: options.codecKeys !== undefined }),
    maxConcurrentActivities: options.maxConcurrentActivities,
    shutdownGraceTime: options.shutdownGraceTime,
    collectLimits: options.collectLimits,
  });
}
