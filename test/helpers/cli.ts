/**
 * Runs the CLI against a test's database and Temporal server: in-process through its entry
 * function, runCli (client/cli.ts), with an environment of its own and the output captured; or as a
 * process (bin/billing.js), for what only a process shows: its start-up, a real process's exit code,
 * its output into a pipe, a worker killed half way. Both give the same exit code, stdout and stderr.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../client/cli';

export const BIN = path.resolve(__dirname, '../../bin/billing.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A test's services, as the CLI's environment sees them. */
export interface CliTarget {
  env: TestWorkflowEnvironment;
  databaseUrl: string;
  taskQueue: string;
  /** More of the CLI's environment (BILLING_CODEC_KEYS, say). */
  extraEnv?: Record<string, string>;
}

/** The environment of a command line against `target`: nothing from the test's own environment but PATH and HOME. */
export function cliEnvFor({ env, databaseUrl, taskQueue, extraEnv }: CliTarget): NodeJS.ProcessEnv {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    BILLING_TASK_QUEUE: taskQueue,
    ...extraEnv,
  };
}

/** `billing ARGS...` in-process with this environment. */
export async function billingIn(env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: {
      write: (text: string) => {
        stdout += text;
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        return true;
      },
    },
  });
  return { code, stdout, stderr };
}

/** `billing ARGS...` as a process (bin/billing.js) with this environment. */
export function billingProcess(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** `billing(...args)` in-process against the target of the moment (read at each call). */
export function cliAgainst(target: () => CliTarget): (...args: string[]) => Promise<CliResult> {
  return (...args) => billingIn(cliEnvFor(target()), args);
}

/** `billing(...args)` as a process against the target of the moment. */
export function cliProcessAgainst(target: () => CliTarget): (...args: string[]) => Promise<CliResult> {
  return (...args) => billingProcess(cliEnvFor(target()), args, 60_000);
}
