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
import { Client as PgClient } from 'pg';
import type { Config } from '../../config';
import { migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { temporalTestServerPath } from '../../stack/binaries';
import { startLocalStack } from '../../stack/local';
import { createBillingWorker, prebuiltWorkflowBundle } from '../../workers/worker';
import { redact } from '../context';
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
      const report = await worker.runUntil(
        playScenario({
          env,
          pool,
          scenario,
          settings: config,
          workDir: path.join(config.dataDir, 'time-travel'),
          onStep: (line) => say(`  ${line}`),
          onMonth: (month) => {
            if (!options.json) printLines(['', ...monthLines(month)]);
          },
        }),
      );
      const wallMs = Date.now() - wallStart;
      if (options.json) {
        printJson({ ...report, wallMs, databaseUrl: redact(databaseUrl), mailInbox: stack.mailWebUrl });
      } else {
        printLines([
          '',
          `${summaryLine(report)} ${(wallMs / 1000).toFixed(1)} s in all, with the start of the services.`,
          '',
          'Where to look:',
          stack.mailWebUrl
            ? `  Mail inbox:  ${stack.mailWebUrl}  (every email of the play: alerts, invoices with their PDF, the plan, the limit request, the policy notices)`
            : `  Mail:        sent to ${stack.smtpUrl}`,
          `  Invoices:    DATABASE_URL='${databaseUrl}' npx billing invoices list`,
          `               DATABASE_URL='${databaseUrl}' npx billing invoices show INV-${scenario.months[0]!.period}-alice`,
          ...(hasConsole() ? [`  Console:     DATABASE_URL='${databaseUrl}' npx billing console`] : []),
          `  The database keeps the play until the next one; Temporal's side (the test server) ended with it.`,
        ]);
      }
    } finally {
      await pool.end();
      await env.teardown();
    }
    if (stack.mailWebUrl || !config.externalDatabase) {
      const running = 'Running until Ctrl-C (the mail inbox and PostgreSQL of the local stack).';
      // With --json, stdout holds the JSON alone.
      if (options.json) say(running);
      else printLines(['', running]);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await stack.stop();
  }
}

/** Whether this build has `billing console` (the support console). */
function hasConsole(): boolean {
  // The CLI loads this module, so it is read when asked, not when this module loads: no import cycle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TOP_LEVEL_COMMANDS } = require('../cli') as typeof import('../cli');
  return TOP_LEVEL_COMMANDS.some((c) => c.name === 'console');
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
