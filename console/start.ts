/** Starts the console on the configured services: its own database pool, and a Temporal client connected when a decision or a page first needs it. */
import type { Client } from '@temporalio/client';
import { connectClient, temporalSettings } from '../client/temporal';
import type { Config } from '../config';
import { createPool } from '../db/pool';
import { consoleSecret } from './secret';
import { buildConsole, listenConsole, type RunningConsole } from './server';

export async function startConsole(config: Config, options: { host?: string; port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunningConsole & { secretFile?: string }> {
  const { secret, file } = consoleSecret(config);
  const pool = createPool(config.databaseUrl, 4);
  let client: Promise<Client> | undefined;
  const temporal = (): Promise<Client> => {
    // A failed connection is tried again by the next request, not remembered.
    client ??= connectClient(config, { env: options.env }).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  try {
    const app = await buildConsole({ config, pool, temporal, namespace: temporalSettings(options.env).namespace, secret });
    const running = await listenConsole(app, options.host ?? config.consoleHost, options.port ?? config.consolePort);
    return {
      url: running.url,
      secretFile: file,
      close: async () => {
        await running.close();
        await pool.end();
        if (client) await (await client.catch(() => undefined))?.connection.close();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
