/**
 * `npx billing <command>`: every command has --help; data commands take --json. Exit codes:
 * 0 success, 2 bad input (one line on stderr naming the bad value), 1 failure.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { CommandContext, InputError } from './context';
import { registerAbuseCommands } from './commands/abuse';
import { registerCloseCommand } from './commands/close';
import { registerInvoiceCommands } from './commands/invoices';
import { registerLimitCommands } from './commands/limit';
import { registerPolicyCommands } from './commands/policy';
import { registerScheduleCommands } from './commands/schedule';
import { registerServiceCommands } from './commands/services';
import { registerStaffCommands } from './commands/staff';
import { registerStatusCommand } from './commands/status';
import { registerSubscriberCommands } from './commands/subscribers';
import { registerUsageCommands } from './commands/usage';
import { flushOutput, guardOutput } from './output';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function isInputError(error: unknown): boolean {
  return error instanceof InputError || error instanceof ConfigError || error instanceof RangeError;
}

function buildProgram(): Command {
  const program = new Command('billing')
    .description('RedConnect fair-usage billing: subscribers, usage, monthly close, invoices')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const run = async (action: (ctx: CommandContext) => Promise<void>): Promise<void> => {
    let ctx: CommandContext | undefined;
    try {
      ctx = new CommandContext();
      await action(ctx);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (isInputError(error)) {
        process.stderr.write(`billing: ${message}\n`);
        throw new ExitSignal(EXIT_BAD_INPUT);
      }
      process.stderr.write(`billing: ${message}\n`);
      if (process.env.BILLING_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
      throw new ExitSignal(EXIT_FAILURE);
    } finally {
      await ctx?.close().catch(() => undefined);
    }
  };

  registerServiceCommands(program, run);
  registerSubscriberCommands(program, run);
  registerStaffCommands(program, run);
  registerUsageCommands(program, run);
  registerCloseCommand(program, run);
  registerScheduleCommands(program, run);
  registerInvoiceCommands(program, run);
  registerLimitCommands(program, run);
  registerAbuseCommands(program, run);
  registerPolicyCommands(program, run);
  registerStatusCommand(program, run);
  // Nested command groups must not exit the process on a bad flag either.
  const override = (command: Command): void => {
    command.exitOverride();
    command.showHelpAfterError('(add --help for usage)');
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs one command line; returns its exit code instead of exiting, so commands can call others. */
export async function runCli(args: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(args, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ExitSignal) {
      if (error.code !== EXIT_OK) throw error;
      return error.code;
    }
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_OK; // --help, --version
      throw new ExitSignal(EXIT_BAD_INPUT);
    }
    throw error;
  }
}

export async function main(argv: string[]): Promise<void> {
  guardOutput();
  let code: number;
  try {
    code = await runCli(argv.slice(2));
  } catch (error) {
    if (error instanceof ExitSignal) code = error.code;
    else {
      process.stderr.write(`billing: ${(error as Error).message}\n`);
      code = EXIT_FAILURE;
    }
  }
  // An output error (guardOutput) may have made a success a failure.
  if (code === EXIT_OK && typeof process.exitCode === 'number') code = process.exitCode;
  process.exitCode = code;
  // Exit promptly (the Temporal client and pg keep no handles open once closed), but only once
  // the reader has all of the output: a pipe to a slower reader would otherwise be cut.
  await flushOutput();
  process.exit(code);
}
