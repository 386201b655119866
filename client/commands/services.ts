/** Commands that run processes: the worker, the local stack (dev) and the demo. */
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { formatCents } from '../../billing/money';
import { periodBounds, previousPeriod, periodOf } from '../../billing/periods';
import { loadConfig, type Config } from '../../config';
import { migrate } from '../../db/migrate';
import { createPool } from '../../db/pool';
import { listInvoices } from '../../db/invoices';
import { startLocalStack } from '../../stack/local';
import { installRuntime, logFormatFor, startTelemetryServer, tracingFromConfig, clientTracingInterceptors } from '../../workers/telemetry';
import { LIVENESS_FILE_NAME, keepLivenessFile } from '../../workers/liveness';
import { createBillingWorker, prebuiltWorkflowBundle, writeWorkflowBundle } from '../../workers/worker';
import { connectClient, connectWorkerConnection, temporalSettings } from '../temporal';
import { InputError, redact, type RunCommand } from '../context';
import { codecKeysFromConfig, ensureDevKeyFile, type CodecKey } from '../../codec/keys';
import { EncryptionCodec } from '../../codec/encryption';
import { localUiOrigins, startCodecServer, type RunningCodecServer } from '../../codec/server';
import { historyBytes, storedPayloads } from '../../codec/inspect';
import { LOCAL_PORTS } from '../../config';
import { onboardSubscriberWorkflowId } from '../../workflows/messages';
import { output, printLines, printTable } from '../output';
import { DEMO_SUBSCRIBERS, demoUsageCsv } from '../demo-data';
import { ensureDemoStaff, staffHint } from '../demo-staff';
import { startConsoleBeside } from '../local-console';
import { DEFAULT_MONTHS, MAX_MONTHS, monthsProblem } from '../time-travel/scenario';
import { ensureSearchAttributes } from '../search-attributes';
import { ensureAbuseScanSchedule, ensureMonthCloseSchedule } from '../schedule';

const say = (line: string): void => {
  output().stderr.write(`${line}\n`);
};

async function runWorkerUntilStopped(config: Config, onReady?: () => Promise<void>): Promise<void> {
  const codecKeys = codecKeysFromConfig(config);
  // A prebuilt bundle (BILLING_WORKFLOW_BUNDLE) is checked against the worker's options before anything starts.
  const workflowBundle = config.workflowBundle
    ? prebuiltWorkflowBundle(config.workflowBundle, { encrypted: (codecKeys?.length ?? 0) > 0, tracing: config.otlpEndpoint !== undefined })
    : undefined;
  // Before any connection: the SDK's logs (JSON off a terminal) and, with BILLING_METRICS_PORT, its metrics.
  const runtime = await installRuntime({ metrics: config.metricsPort !== undefined, logFormat: logFormatFor(config.logFormat), logLevel: config.logLevel });
  const tracing = tracingFromConfig(config);
  const { connection, namespace } = await connectWorkerConnection();
  // The activities' client (the close's fan-out) carries the trace on to the workflows it signals.
  const client = await connectClient(config, tracing ? { interceptors: clientTracingInterceptors(tracing) } : {});
  const added = await ensureSearchAttributes(connection, namespace);
  if (added.length > 0) say(`registered search attributes ${added.join(', ')} on namespace ${namespace}`);
  const pool = createPool(config.databaseUrl);
  let telemetry: Awaited<ReturnType<typeof startTelemetryServer>> | undefined;
  try {
    const worker = await createBillingWorker({
      config,
      connection,
      namespace,
      client,
      pool,
      codecKeys,
      ...(tracing ? { tracing } : {}),
      ...(workflowBundle ? { workflowBundle } : {}),
      rejectsDir: path.join(config.dataDir, 'rejects'),
    });
    if (config.metricsPort !== undefined) {
      telemetry = await startTelemetryServer({
        host: config.metricsHost,
        port: config.metricsPort,
        pool,
        sdkMetricsUrl: runtime.sdkMetricsUrl,
        workerState: () => worker.getState(),
      });
      say(`metrics on ${telemetry.url}/metrics, health on /healthz and /readyz`);
    }
    if (tracing) say(`traces exported by OTLP to ${config.otlpEndpoint}`);
    if (workflowBundle) say(`workflows loaded from the prebuilt bundle ${workflowBundle.codePath}`);
    const payloads = codecKeys
      ? `payloads encrypted with key ${codecKeys[0]!.id}${
          codecKeys.length > 1
            ? ` (also reading ${codecKeys
                .slice(1)
                .map((k) => k.id)
                .join(', ')})`
            : ''
        }`
      : 'payloads in clear (no BILLING_CODEC_KEYS)';
    // The image's health check reads this file (Dockerfile): written before the line below says the worker polls.
    const stopLiveness = keepLivenessFile(path.join(config.dataDir, LIVENESS_FILE_NAME), () => worker.getState() === 'RUNNING');
    try {
      say(`worker polling task queue "${config.taskQueue}" on ${temporalSettings().address} (namespace ${namespace}), database ${redact(config.databaseUrl)}, ${payloads}`);
      await worker.runUntil(async () => {
        await onReady?.();
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        say('stopping: finishing the work in hand');
      });
    } finally {
      stopLiveness();
    }
  } finally {
    await telemetry?.close();
    await tracing?.shutdown();
    await pool.end();
    await client.connection.close();
    await connection.close();
  }
}

export function registerServiceCommands(program: Command, run: RunCommand): void {
  program
    .command('db')
    .description('database administration')
    .command('migrate')
    .description('apply the schema migrations and seed the default policy')
    .action(() =>
      run(async (ctx) => {
        await ctx.pool();
        const applied = await migrate(ctx.config.databaseUrl);
        printLines([applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date']);
      }),
    );

  program
    .command('worker')
    .description('run a worker against the configured services until Ctrl-C')
    .option('--build-bundle <file>', 'instead: bundle the workflows into FILE (and FILE.json) for BILLING_WORKFLOW_BUNDLE, then exit')
    .option('--encrypted', 'with --build-bundle: for a worker with BILLING_CODEC_KEYS')
    .option('--tracing', 'with --build-bundle: for a worker with OTEL_EXPORTER_OTLP_ENDPOINT (tracing)')
    .action((opts: { buildBundle?: string; encrypted?: boolean; tracing?: boolean }) =>
      run(async (ctx) => {
        if (opts.buildBundle !== undefined) {
          const file = path.resolve(opts.buildBundle);
          const manifest = await writeWorkflowBundle(file, { encrypted: opts.encrypted === true, tracing: opts.tracing === true });
          printLines([`workflow bundle written to ${file} (encrypted=${manifest.encrypted} tracing=${manifest.tracing}); run workers with BILLING_WORKFLOW_BUNDLE=${file}`]);
          return;
        }
        if (opts.encrypted || opts.tracing) throw new InputError('--encrypted and --tracing go with --build-bundle FILE; a running worker takes them from its configuration');
        await ctx.pool();
        await runWorkerUntilStopped(ctx.config);
      }),
    );

  const noEncryption = '--no-encryption';
  const encryptionHelp = 'send payloads to Temporal in clear instead of encrypted with the local key (.data/codec-keys)';
  program
    .command('dev')
    .description('start everything locally: Temporal dev server with UI, PostgreSQL, mail inbox, worker')
    .option(noEncryption, encryptionHelp)
    .action((opts) =>
      run(async (ctx) => {
        await withLocalStack(
          ctx.config,
          async (config, addresses) => {
            addresses.push(...(await consoleStaffLines(config, false)));
          },
          { encryption: opts.encryption !== false },
        );
      }),
    );

  program
    .command('demo')
    .description('a realistic example end to end: subscribers, a month of calls, the close, invoices; then where to look (--months N: the next N months, time-skipped)')
    .option(noEncryption, encryptionHelp)
    .option('--months [n]', `instead: play the example's next N months (1-${MAX_MONTHS}, default ${DEFAULT_MONTHS}) on the time-skipping test server, in about a minute`)
    .option('--json', 'with --months: print the play as JSON')
    .action((opts) =>
      run(async (ctx) => {
        if (opts.months !== undefined) {
          const months = opts.months === true ? DEFAULT_MONTHS : String(opts.months);
          const problem = monthsProblem(months);
          if (problem) throw new InputError(problem);
          // Loaded when asked: the test server's client stays out of the one-month demo.
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const { runTimeTravel } = require('../time-travel/command') as typeof import('../time-travel/command');
          return runTimeTravel(ctx.config, Number(months), { json: Boolean(opts.json) });
        }
        if (opts.json) throw new InputError('--json goes with --months N: the one-month demo prints its steps as it goes');
        await withLocalStack(
          ctx.config,
          async (config, addresses) => {
            await runDemo(config);
            addresses.push(...(await consoleStaffLines(config, true)));
          },
          { encryption: opts.encryption !== false },
        );
      }),
    );
}

/**
 * Payload encryption of the local stack: the configured keys, else a key of its own kept in
 * .data/codec-keys (made on the first run), with a codec server for the UI the stack starts. On by
 * default: the UI decodes through that server, so a new user sees every run in clear there while
 * Temporal's store holds ciphertext; `--no-encryption` turns it off.
 */
async function localEncryption(config: Config, encryption: boolean): Promise<{ keys: CodecKey[] | null; server: RunningCodecServer | null; exports: string }> {
  const configured = config.codecKeys !== undefined || config.codecKeyFile !== undefined;
  if (!encryption) {
    if (configured) throw new InputError('--no-encryption, but BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE is set: unset it to run in clear');
    return { keys: null, server: null, exports: '' };
  }
  if (!configured) {
    const { file, created } = ensureDevKeyFile(path.join(config.dataDir, 'codec-keys'));
    if (created) say(`made a payload encryption key for the local stack in ${file}`);
    process.env.BILLING_CODEC_KEY_FILE = file;
  }
  const keys = codecKeysFromConfig(loadConfig())!;
  const server = await startCodecServer({ codec: new EncryptionCodec(keys), origins: localUiOrigins(), port: LOCAL_PORTS.codecServer });
  const exports = process.env.BILLING_CODEC_KEY_FILE ? ` BILLING_CODEC_KEY_FILE='${process.env.BILLING_CODEC_KEY_FILE}'` : ' BILLING_CODEC_KEYS=<the same keys>';
  return { keys, server, exports };
}

async function withLocalStack(config: Config, afterStart: (config: Config, addresses: string[]) => Promise<void>, options: { encryption: boolean }): Promise<void> {
  const codec = await localEncryption(config, options.encryption);
  let stack;
  try {
    stack = await startLocalStack(config, say, { uiCodecEndpoint: codec.server?.url });
  } catch (error) {
    await codec.server?.close();
    throw error;
  }
  process.env.DATABASE_URL = stack.databaseUrl;
  process.env.SMTP_URL = stack.smtpUrl;
  const running = loadConfig();
  const addresses = [
    stack.temporalUiUrl ? `Temporal UI:  ${stack.temporalUiUrl}/namespaces/default/workflows` : `Temporal:     ${stack.temporalAddress}`,
    stack.mailWebUrl ? `Mail inbox:   ${stack.mailWebUrl}` : `SMTP:         ${stack.smtpUrl}`,
    `PostgreSQL:   ${redact(stack.databaseUrl)}`,
    codec.server
      ? `Payloads:     encrypted in Temporal with key ${codec.keys![0]!.id}; codec server ${codec.server.url} (the UI decodes through it; temporal CLI: --codec-endpoint ${codec.server.url})`
      : 'Payloads:     in clear in Temporal (--no-encryption)',
    'In another terminal, set these to use the CLI against this stack:',
    `  export DATABASE_URL='${stack.databaseUrl}' TEMPORAL_ADDRESS=${stack.temporalAddress} SMTP_URL=${stack.smtpUrl}${codec.exports}`,
  ];
  let consoleServer: { url: string; close(): Promise<void> } | undefined;
  try {
    await runWorkerUntilStopped(running, async () => {
      consoleServer = await startConsoleBeside(running, say);
      if (consoleServer) addresses.splice(2, 0, `Console:      ${consoleServer.url} (support console: README, "The support console")`);
      const client = await connectClient();
      try {
        const settings = { time: running.closeScheduleTime, timezone: running.closeScheduleTimezone };
        const outcome = await ensureMonthCloseSchedule(client, running, settings);
        say(`${outcome} schedule billing-month-close: the 1st of each month at ${settings.time} ${settings.timezone}`);
        const abuse = await ensureAbuseScanSchedule(client, running);
        say(`${abuse} schedule billing-abuse-scan: every day at ${running.abuseScanTime} ${running.abuseScanTimezone}`);
      } finally {
        await client.connection.close();
      }
      await afterStart(running, addresses);
      printLines(['', ...addresses, '', 'Running until Ctrl-C.']);
    });
  } finally {
    await consoleServer?.close();
    await stack.stop();
    await codec.server?.close();
  }
}

/** Who can sign in to the console: the demo's own member, or for `dev` how to add one. */
async function consoleStaffLines(config: Config, demo: boolean): Promise<string[]> {
  const pool = createPool(config.databaseUrl, 1);
  try {
    return demo ? await ensureDemoStaff(pool) : await staffHint(pool);
  } finally {
    await pool.end();
  }
}

async function runDemo(config: Config): Promise<void> {
  const period = demoPeriod(config);
  say(`demo: loading subscribers and a month of calls for ${period}`);
  // The demo drives the CLI as a person would. The CLI loads this module, so it is loaded here, when
  // the demo runs, not when this module loads: no import cycle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runCli } = require('../cli') as typeof import('../cli');
  const step = async (args: string[]): Promise<void> => {
    if ((await runCli(args)) !== 0) throw new Error(`the demo stopped: \`billing ${args.join(' ')}\` failed (see above)`);
  };
  const pool = createPool(config.databaseUrl, 2);
  try {
    for (const s of DEMO_SUBSCRIBERS) {
      const { rowCount } = await pool.query('SELECT 1 FROM subscribers WHERE id = $1', [s.id]);
      if (rowCount) continue;
      await step([
        'subscribers',
        'add',
        '--id',
        s.id,
        '--name',
        s.name,
        '--email',
        s.email,
        '--timezone',
        s.timezone,
        '--monthly-fee',
        s.monthlyFee,
        '--since',
        `${period}-01`,
        ...s.numbers.flatMap((n) => ['--number', n]),
        ...(s.business ? ['--business'] : []),
      ]);
    }
    const file = path.join(config.dataDir, 'demo', `usage-${period}.csv`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, demoUsageCsv(period));
    await step(['usage', 'import', file, '--source', 'demo-switch']);
    await step(['close', '--period', period, '--wait']);
    const invoices = await listInvoices(pool, { period });
    printLines(['', `Invoices for ${period}:`]);
    printTable(
      invoices.map((i) => ({ invoice: i.id, subscriber: i.subscriberId, overage: `${i.overageMinutes} min`, total: `${formatCents(i.totalCents)} ${i.currency}` })),
      ['invoice', 'subscriber', 'overage', 'total'],
    );
    printLines(['', await whatTemporalStores(DEMO_SUBSCRIBERS[0]!)]);
  } finally {
    await pool.end();
  }
}

/**
 * What Temporal's store holds of a demo subscriber: their onboarding's history read as anyone with
 * access to the server reads it, without the key, searched for their email, name and number.
 */
async function whatTemporalStores(subscriber: (typeof DEMO_SUBSCRIBERS)[number]): Promise<string> {
  const workflowId = onboardSubscriberWorkflowId(subscriber.id);
  const { connectionOptions, namespace } = temporalSettings();
  const connection = await Connection.connect(connectionOptions);
  try {
    const history = await new Client({ connection, namespace }).workflow.getHandle(workflowId).fetchHistory();
    const bytes = historyBytes(history);
    const stored = storedPayloads(history);
    const inClear = [subscriber.email, subscriber.name, ...subscriber.numbers].filter((text) => bytes.includes(text));
    const keys = [...new Set(stored.encrypted.map((p) => p.keyId))].join(', ');
    const found =
      inClear.length > 0
        ? `${subscriber.id}'s ${inClear.join(', ')} can be read in it by anyone with access to the server.`
        : `${subscriber.id}'s email, name and number appear nowhere in it: the UI shows them through the codec server.`;
    if (stored.encrypted.length === 0) return `In Temporal, ${workflowId}'s history holds its ${stored.plain.length} payloads in clear; ${found}`;
    return `In Temporal, ${workflowId}'s history read without the key holds ${stored.encrypted.length} encrypted payloads (key ${keys}) and ${stored.plain.length} in clear; ${found}`;
  } catch (error) {
    return `Could not read ${workflowId}'s history to show what Temporal stores: ${(error as Error).message}`;
  } finally {
    await connection.close();
  }
}

/** The last month that is over everywhere, grace period included. */
function demoPeriod(config: Config): string {
  let period = previousPeriod(periodOf(Date.now(), 'UTC'));
  if (periodBounds(period, 'Etc/GMT+12').endMs + config.closeGraceHours * 3_600_000 > Date.now()) period = previousPeriod(period);
  return period;
}
