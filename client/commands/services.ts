/** Commands that run processes: the worker, the local stack (dev) and the demo. */
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
import { createBillingWorker } from '../../workers/worker';
import { connectClient, connectWorkerConnection, temporalSettings } from '../temporal';
import { redact, type RunCommand } from '../context';
import { output, printLines, printTable } from '../output';
import { DEMO_SUBSCRIBERS, demoUsageCsv } from '../demo-data';
import { ensureSearchAttributes } from '../search-attributes';
import { ensureAbuseScanSchedule, ensureMonthCloseSchedule } from '../schedule';

const say = (line: string): void => { output().stderr.write(`${line}\n`); };

async function runWorkerUntilStopped(config: Config, onReady?: () => Promise<void>): Promise<void> {
  const { connection, namespace } = await connectWorkerConnection();
  const client = await connectClient();
  const added = await ensureSearchAttributes(connection, namespace);
  if (added.length > 0) say(`registered search attributes ${added.join(', ')} on namespace ${namespace}`);
  const pool = createPool(config.databaseUrl);
  try {
    const worker = await createBillingWorker({ config, connection, namespace, client, pool });
    say(`worker polling task queue "${config.taskQueue}" on ${temporalSettings().address} (namespace ${namespace}), database ${redact(config.databaseUrl)}`);
    await worker.runUntil(async () => {
      await onReady?.();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      say('stopping: finishing the work in hand');
    });
  } finally {
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
    .action(() => run(async (ctx) => {
      await ctx.pool();
      const applied = await migrate(ctx.config.databaseUrl);
      printLines([applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date']);
    }));

  program
    .command('worker')
    .description('run a worker against the configured services until Ctrl-C')
    .action(() => run(async (ctx) => {
      await ctx.pool();
      await runWorkerUntilStopped(ctx.config);
    }));

  program
    .command('dev')
    .description('start everything locally: Temporal dev server with UI, PostgreSQL, mail inbox, worker')
    .action(() => run(async (ctx) => {
      await withLocalStack(ctx.config, async () => undefined);
    }));

  program
    .command('demo')
    .description('a realistic example end to end: subscribers, a month of calls, the close, invoices; then where to look')
    .action(() => run(async (ctx) => {
      await withLocalStack(ctx.config, runDemo);
    }));
}

async function withLocalStack(config: Config, afterStart: (config: Config, addresses: string[]) => Promise<void>): Promise<void> {
  const stack = await startLocalStack(config, say);
  process.env.DATABASE_URL = stack.databaseUrl;
  process.env.SMTP_URL = stack.smtpUrl;
  const running = loadConfig();
  const addresses = [
    stack.temporalUiUrl ? `Temporal UI:  ${stack.temporalUiUrl}/namespaces/default/workflows` : `Temporal:     ${stack.temporalAddress}`,
    stack.mailWebUrl ? `Mail inbox:   ${stack.mailWebUrl}` : `SMTP:         ${stack.smtpUrl}`,
    `PostgreSQL:   ${redact(stack.databaseUrl)}`,
    'In another terminal, set these to use the CLI against this stack:',
    `  export DATABASE_URL='${stack.databaseUrl}' TEMPORAL_ADDRESS=${stack.temporalAddress} SMTP_URL=${stack.smtpUrl}`,
  ];
  try {
    await runWorkerUntilStopped(running, async () => {
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
    await stack.stop();
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
      await step(['subscribers', 'add', '--id', s.id, '--name', s.name, '--email', s.email, '--timezone', s.timezone,
        '--monthly-fee', s.monthlyFee, '--since', `${period}-01`, ...s.numbers.flatMap((n) => ['--number', n]), ...(s.business ? ['--business'] : [])]);
    }
    const file = path.join(config.dataDir, 'demo', `usage-${period}.csv`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, demoUsageCsv(period));
    await step(['usage', 'import', file, '--source', 'demo-switch']);
    await step(['close', '--period', period, '--wait']);
    const invoices = await listInvoices(pool, { period });
    printLines(['', `Invoices for ${period}:`]);
    printTable(invoices.map((i) => ({ invoice: i.id, subscriber: i.subscriberId, overage: `${i.overageMinutes} min`, total: `${formatCents(i.totalCents)} ${i.currency}` })), ['invoice', 'subscriber', 'overage', 'total']);
  } finally {
    await pool.end();
  }
}

/** The last month that is over everywhere, grace period included. */
function demoPeriod(config: Config): string {
  let period = previousPeriod(periodOf(Date.now(), 'UTC'));
  if (periodBounds(period, 'Etc/GMT+12').endMs + config.closeGraceHours * 3_600_000 > Date.now()) period = previousPeriod(period);
  return period;
}
