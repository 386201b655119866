/** What every command may need, opened lazily and closed once at the end. */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { loadConfig, redactUrl, type Config } from '../config';
import { createPool } from '../db/pool';

export class InputError extends Error {}

/** Runs a command's action with a context, mapping its errors to exit codes (client/cli.ts). */
export type RunCommand = (action: (ctx: CommandContext) => Promise<void>) => Promise<void>;

export class CommandContext {
  readonly config: Config;
  /** The environment the configuration came from; the Temporal connection's settings are read from it too. */
  private readonly env: NodeJS.ProcessEnv;
  private poolInstance?: Pool;
  private clientInstance?: Client;

  constructor(config: Config = loadConfig(), env: NodeJS.ProcessEnv = process.env) {
    this.config = config;
    this.env = env;
  }

  async pool(): Promise<Pool> {
    if (!this.poolInstance) {
      const pool = createPool(this.config.databaseUrl, 4);
      try {
        await pool.query('SELECT 1');
      } catch (error) {
        await pool.end().catch(() => undefined);
        const where = this.config.externalDatabase ? 'DATABASE_URL' : 'the local database (start it with `npx billing dev`, or set DATABASE_URL)';
        throw new Error(`cannot reach PostgreSQL at ${redact(this.config.databaseUrl)}: ${(error as Error).message}; check ${where}`);
      }
      this.poolInstance = pool;
    }
    return this.poolInstance;
  }

  async temporal(): Promise<Client> {
    // Loaded on first use: the commands that only read the database never load the Temporal client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.clientInstance ??= await (require('./temporal') as typeof import('./temporal')).connectClient(this.config, { env: this.env });
    return this.clientInstance;
  }

  async close(): Promise<void> {
    await this.poolInstance?.end();
    await this.clientInstance?.connection.close();
  }
}

/** The URL without its password (config/index.ts, redactUrl). */
export const redact = redactUrl;
