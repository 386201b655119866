/**
 * `billing demo --months N`: the example's next N months played in about a minute, like Stripe's
 * test clocks. PostgreSQL and the mail inbox are the local stack's (or DATABASE_URL's server and
 * SMTP_URL); Temporal is the pinned time-skipping test server, started for the play and stopped
 * after it (Schedules do not exist there: the engine starts each close as the Schedule would).
 * The play writes to a database of its own on that server, made afresh each time, so the months
 * it invents never mix with the dev database's, and a second play starts from the same state.
 */
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import path from 'node:path';
import { Client as PgClient, type Pool } from 'pg';
import type { Config } from '../../config';
import { migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { temporalTestServerPath } from '../../stack/binaries';
import { startLocalStack } from '../../stack/local';
import { createBillingWorker, prebuiltWorkflowBundle } from '../../workers/worker';
import { redact } from '../context';
import { ensureDemoStaff } from '../demo-staff';
import { startConsoleBeside } from '../local-console';
import { output, printJson, printLines } from '../output';
import { ensureSearchAttributes } from '../search-attributes';
import { playScenario } from './engine';
import { monthLines, summaryLine } from './narrative';
import { buildScenario } from './scenario';

/** The play's own database, on the same server as the configured one. */
export const TIME_TRAVEL_DATABASE = 'billing_time_travel';

const say = (line: string): void => {
  output().stderr.write(`${line}\n`);
};

export async function runTimeTravel(config: Config, months: number, options: { json: boolean }): Promise<void> {
  const wallStart = Date.now();
  const stack = await startLocalStack(config, say, { temporal: false });
  try {
    const databaseUrl = await freshDatabase(stack.databaseUrl, TIME_TRAVEL_DATABASE);
    say(`the play's database: ${redact(databaseUrl)} (made afresh)`);
    quietRuntime();
    say('starting the time-skipping Temporal test server');
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath(config) } } });
    const pool = createPool(databaseUrl, 4);
    try {
      const namespace = env.namespace ?? 'default';
      await ensureSearchAttributes(env.connection, namespace);
      if (!config.workflowBundle) say('bundling the workflows for the worker (some seconds)');
      const worker = await createBillingWorker({
        config: { ...config, smtpUrl: stack.smtpUrl },
        connection: env.nativeConnection,
        namespace,
        // A plain client for the activities: awaiting a result through the test environment's would skip time.
        client: new Client({ connection: env.connection, namespace }),
        pool,
        ...(config.workflowBundle ? { workflowBundle: prebuiltWorkflowBundle(config.workflowBundle, { encrypted: false, tracing: false }) } : {}),
        rejectsDir: path.join(config.dataDir, 'rejects'),
      });
      const scenario = buildScenario({ nowMs: await env.currentTimeMs(), months });
      say(`playing ${scenario.months.length} months from ${scenario.months[0]!.period}: each step at its simulated time`);
      // The worker runs on after the play while the console is open: its decisions are Updates.
      const workerRun = worker.run();
      let report;
      try {
        report = await playScenario({
          env,
          pool,
          scenario,
          settings: config,
          workDir: path.join(config.dataDir, 'time-travel'),
          onStep: (line) => say(`  ${line}`),
          onMonth: (month) => {
            if (!options.json) printLines(['', ...monthLines(month)]);
          },
        });
      } catch (error) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun.catch(() => undefined);
        throw error;
      }
      const wallMs = Date.now() - wallStart;
      const keepRunning = Boolean(stack.mailWebUrl || !config.externalDatabase);
      // The console on the play's database and test server, with the demo's support member.
      const playConsole = keepRunning ? await startPlayConsole(config, databaseUrl, env.address, namespace, pool) : undefined;
      try {
        if (options.json) {
          printJson({ ...report, wallMs, databaseUrl: redact(databaseUrl), mailInbox: stack.mailWebUrl, console: playConsole?.url ?? null });
        } else {
          printLines([
            '',
            `${summaryLine(report)} ${(wallMs / 1000).toFixed(1)} s in all, with the start of the services.`,
            '',
            'Where to look:',
            stack.mailWebUrl
              ? `  Mail inbox:  ${stack.mailWebUrl}  (every email of the play: alerts, invoices with their PDF, the plan, the limit request, the policy notices)`
              : `  Mail:        sent to ${stack.smtpUrl}`,
            ...(playConsole ? [`  Console:     ${playConsole.url}  (the play's subscribers, invoices, requests and closes)`, `               ${playConsole.signIn}`] : []),
            `  Invoices:    DATABASE_URL='${databaseUrl}' npx billing invoices list`,
            `               DATABASE_URL='${databaseUrl}' npx billing invoices show INV-${scenario.months[0]!.period}-alice`,
            `  The database keeps the play until the next one; Temporal's side (the test server) ends with this command.`,
          ]);
        }
        if (keepRunning) {
          const running = "Running until Ctrl-C (the mail inbox, PostgreSQL, the console and the play's Temporal test server).";
          // With --json, stdout holds the JSON alone.
          if (options.json) say(running);
          else printLines(['', running]);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
        }
      } finally {
        await playConsole?.close();
        // Ctrl-C has already begun the worker's shutdown (the SDK stops workers on SIGINT).
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
      }
    } finally {
      await pool.end();
      await env.teardown();
    }
  } finally {
    await stack.stop();
  }
}

/**
 * The support console on the play's database and its Temporal test server, with the demo's
 * support member (a new password each play: the database is made afresh). Undefined, with the
 * reason on stderr, when it cannot start (its port taken by a running `billing dev`).
 */
async function startPlayConsole(
  config: Config,
  databaseUrl: string,
  temporalAddress: string,
  namespace: string,
  pool: Pool,
): Promise<{ url: string; signIn: string; close(): Promise<void> } | undefined> {
  // The play's payloads are in clear (its worker has no codec): so are the console's.
  const running = await startConsoleBeside({ ...config, databaseUrl, codecKeys: undefined, codecKeyFile: undefined }, say, {
    env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace },
    hint: 'is `billing dev` running? set BILLING_CONSOLE_PORT to another port',
  });
  if (!running) return undefined;
  try {
    const [signIn] = await ensureDemoStaff(pool);
    return { url: running.url, signIn: signIn!, close: running.close };
  } catch (error) {
    await running.close();
    say(`the support console did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/** Drops and creates `name` on the server of `url`, and migrates it; returns its URL. */
async function freshDatabase(url: string, name: string): Promise<string> {
  const admin = new PgClient({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    throw new Error(
      `the time-travel demo plays in a database of its own, ${name}, on the server of ${redact(url)}, and could not make it: ${(error as Error).message}; give that role CREATEDB, or point DATABASE_URL at a server where it has it`,
    );
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  await migrate(target.toString());
  return target.toString();
}

/** The SDK's own lines held to errors: the test server lacks capabilities the core warns about. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  } catch {
    // Installed already (a test process): kept.
  }
}
