/**
 * `npx billing <command>`: every command has --help; data commands take --json. Exit codes:
 * 0 success, 2 bad input (one line on stderr naming the bad value), 1 failure.
 */
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import type { CommandContext, RunCommand } from './context';
import { flushOutput, guardOutput, output, withOutput, type OutputSink } from './output';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

type Registrar = (program: Command, run: RunCommand) => void;

/*
 * The command groups, loaded only when one of their commands runs: the modules behind them pull in
 * PostgreSQL, the Temporal client and, for `worker`, `dev` and `demo`, the worker SDK, which took
 * most of every command's start-up when all were loaded for `--help` as well. Each top-level
 * command's description is here, for the overview `billing --help` prints without loading any;
 * test/unit/cli-commands.test.ts checks it is the one the module registers.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  services: (): Registrar => (require('./commands/services') as typeof import('./commands/services')).registerServiceCommands,
  subscribers: (): Registrar => (require('./commands/subscribers') as typeof import('./commands/subscribers')).registerSubscriberCommands,
  staff: (): Registrar => (require('./commands/staff') as typeof import('./commands/staff')).registerStaffCommands,
  usage: (): Registrar => (require('./commands/usage') as typeof import('./commands/usage')).registerUsageCommands,
  sources: (): Registrar => (require('./commands/sources') as typeof import('./commands/sources')).registerSourceCommands,
  close: (): Registrar => (require('./commands/close') as typeof import('./commands/close')).registerCloseCommand,
  schedule: (): Registrar => (require('./commands/schedule') as typeof import('./commands/schedule')).registerScheduleCommands,
  invoices: (): Registrar => (require('./commands/invoices') as typeof import('./commands/invoices')).registerInvoiceCommands,
  limit: (): Registrar => (require('./commands/limit') as typeof import('./commands/limit')).registerLimitCommands,
  abuse: (): Registrar => (require('./commands/abuse') as typeof import('./commands/abuse')).registerAbuseCommands,
  policy: (): Registrar => (require('./commands/policy') as typeof import('./commands/policy')).registerPolicyCommands,
  codec: (): Registrar => (require('./commands/codec') as typeof import('./commands/codec')).registerCodecCommands,
  status: (): Registrar => (require('./commands/status') as typeof import('./commands/status')).registerStatusCommand,
  console: (): Registrar => (require('./commands/console') as typeof import('./commands/console')).registerConsoleCommand,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Every top-level command, in the order of `billing --help`: its description and the group that registers it. */
export const TOP_LEVEL_COMMANDS: ReadonlyArray<{ name: string; description: string; group: keyof typeof load }> = [
  { name: 'db', description: 'database administration', group: 'services' },
  { name: 'worker', description: 'run a worker against the configured services until Ctrl-C', group: 'services' },
  { name: 'dev', description: 'start everything locally: Temporal dev server with UI, PostgreSQL, mail inbox, worker', group: 'services' },
  {
    name: 'demo',
    description: 'a realistic example end to end: subscribers, a month of calls, the close, invoices; then where to look (--months N: the next N months, time-skipped)',
    group: 'services',
  },
  {
    name: 'codec-server',
    description: "decode and encode payloads for the Temporal UI and the temporal CLI with the configured keys (Temporal's codec server protocol)",
    group: 'codec',
  },
  { name: 'subscribers', description: 'register and list subscribers', group: 'subscribers' },
  { name: 'staff', description: 'support reviewers, who may decide requests and cases', group: 'staff' },
  { name: 'usage', description: 'import call records and look at usage', group: 'usage' },
  { name: 'sources', description: 'switches whose call records are collected on a schedule (Asterisk cdr table, spool folder)', group: 'sources' },
  { name: 'close', description: 'close a month for every subscriber: rate, invoice and mail', group: 'close' },
  { name: 'schedule', description: 'the Schedule billing-month-close, which closes each month on the 1st', group: 'schedule' },
  { name: 'invoices', description: 'look at invoices', group: 'invoices' },
  { name: 'limit', description: 'limit-increase requests, decided by customer support', group: 'limit' },
  { name: 'abuse', description: 'abuse prevention: the daily scan, cases decided by customer support, suspended accounts', group: 'abuse' },
  { name: 'policy', description: 'policy versions: publish a revision, follow it, cancel it', group: 'policy' },
  { name: 'status', description: "a subscriber's account and where their billing cycle stands", group: 'status' },
  { name: 'console', description: 'the support console in the browser: subscribers, the queue of requests and cases, closes and policies', group: 'console' },
];

/** Every command group's registrar, each module loaded now (tests; the lazy path is buildProgram's). */
export function allGroups(): Registrar[] {
  return Object.values(load).map((loader) => loader());
}

/** The package's version, read from package.json when asked (not bundled into dist/). */
function packageVersion(): string {
  const root = path.resolve(__dirname, __filename.endsWith('.js') ? '../..' : '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- read only when --version is asked
  return (require(path.join(root, 'package.json')) as { version: string }).version;
}

/** What one command line runs with: its environment and where its output goes (client/output.ts). */
export interface CliIo {
  /** The environment the configuration is read from (default: the process's). */
  env?: NodeJS.ProcessEnv;
  stdout?: OutputSink;
  stderr?: OutputSink;
}

/** Runs a command's action with a context built from `env`, closed after; maps its errors to exit codes. */
function actionRunner(env: NodeJS.ProcessEnv): RunCommand {
  return async (action) => {
    // Loaded with the first command that runs: config, PostgreSQL's client and the Temporal client's types.
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the first command that runs, never for --help */
    const { CommandContext, InputError } = require('./context') as typeof import('./context');
    const { ConfigError, loadConfig } = require('../config') as typeof import('../config');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { stderr } = output();
    let ctx: CommandContext | undefined;
    try {
      ctx = new CommandContext(loadConfig(env), env);
      await action(ctx);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      stderr.write(`billing: ${message}\n`);
      if (error instanceof InputError || error instanceof ConfigError || error instanceof RangeError) {
        throw new ExitSignal(EXIT_BAD_INPUT);
      }
      if (env.BILLING_DEBUG) stderr.write(`${(error as Error).stack}\n`);
      throw new ExitSignal(EXIT_FAILURE);
    } finally {
      await ctx?.close().catch(() => undefined);
    }
  };
}

/**
 * The program for one command line: the group of the command it names, or (for `--help`, an
 * unknown command) every top-level command's name and description without loading any group.
 */
function buildProgram(args: string[], env: NodeJS.ProcessEnv): Command {
  const { stdout, stderr } = output();
  const program = new Command('billing')
    .description('RedConnect fair-usage billing: subscribers, usage, monthly close, invoices')
    .version(packageVersion(), '-V, --version', 'the version of billing')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });

  const positional = args.filter((a) => !a.startsWith('-'));
  // `billing help <command>` is `billing <command> --help`.
  const named = positional[0] === 'help' ? positional[1] : positional[0];
  const chosen = TOP_LEVEL_COMMANDS.find((c) => c.name === named);
  if (chosen) {
    load[chosen.group]()(program, actionRunner(env));
  } else {
    for (const { name, description } of TOP_LEVEL_COMMANDS) program.command(name).description(description);
  }
  // Nested command groups must not exit the process on a bad flag either.
  const override = (command: Command): void => {
    command.exitOverride();
    command.showHelpAfterError('(add --help for usage)');
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/**
 * Runs one command line and returns its exit code (0, 1 or 2); never exits the process and leaves
 * no state behind (not even process.exitCode), so it may run any number of times in one process:
 * a command that runs others (the demo), and the tests, which run the commands in-process with
 * their own environment and output. The configuration is read from `io.env` (default: the
 * process's) and the output goes to `io.stdout` and `io.stderr` (default: the current command
 * line's, the process's outside one).
 */
export async function runCli(args: string[], io: CliIo = {}): Promise<number> {
  const outer = output();
  const sinks = { stdout: io.stdout ?? outer.stdout, stderr: io.stderr ?? outer.stderr };
  const env = io.env ?? process.env;
  return withOutput(sinks, async () => {
    try {
      await buildProgram(args, env).parseAsync(args, { from: 'user' });
      return EXIT_OK;
    } catch (error) {
      if (error instanceof ExitSignal) return error.code;
      if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT; // 0: --help, --version
      sinks.stderr.write(`billing: ${(error as Error).message}\n`);
      return EXIT_FAILURE;
    }
  });
}

/** bin/billing.js: runs the command line of this process and exits with its code once the output is read. */
export async function main(argv: string[]): Promise<void> {
  guardOutput();
  let code = await runCli(argv.slice(2));
  // An output error (guardOutput) may have made a success a failure.
  if (code === EXIT_OK && typeof process.exitCode === 'number') code = process.exitCode;
  process.exitCode = code;
  // Exit promptly (the Temporal client and pg keep no handles open once closed), but only once
  // the reader has all of the output: a pipe to a slower reader would otherwise be cut.
  await flushOutput();
  process.exit(code);
}
