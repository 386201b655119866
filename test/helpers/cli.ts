/** Runs the CLI as a process (bin/billing.js) against a test's database and Temporal server. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/billing.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `extraEnv`: more of the CLI's environment (BILLING_CODEC_KEYS, say). */
export function cliAgainst(target: () => { env: TestWorkflowEnvironment; databaseUrl: string; taskQueue: string; extraEnv?: Record<string, string> }): (...args: string[]) => Promise<CliResult> {
  return (...args) => new Promise((resolve) => {
    const { env, databaseUrl, taskQueue, extraEnv } = target();
    const address = (env.connection as unknown as { options: { address: string } }).options.address;
    const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', BILLING_TASK_QUEUE: taskQueue, ...extraEnv };
    execFile(process.execPath, [BIN, ...args], { env: cliEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
