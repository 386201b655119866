/**
 * Connections to Temporal, configured by @temporalio/envconfig: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings or a profile file (default localhost:7233,
 * namespace "default").
 */
import { Client, Connection, type ClientOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import { configuredClientDataConverter } from '../codec/data-converter';
import { loadConfig, type Config } from '../config';

/** The connection's settings from `env` (default: the process's environment). */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
} {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: vars });
  return { address: connectionOptions.address ?? 'localhost:7233', namespace: namespace ?? 'default', connectionOptions };
}

/**
 * A client with the payload codec of the configured keys (BILLING_CODEC_KEYS or
 * BILLING_CODEC_KEY_FILE, codec/keys.ts): what it sends is encrypted, what it reads decrypted.
 * `options`: more of the client's settings (the worker's tracing interceptors), and the environment
 * the connection's settings are read from (default: the process's).
 */
export async function connectClient(
  config: Pick<Config, 'codecKeys' | 'codecKeyFile'> = loadConfig(),
  options: Pick<ClientOptions, 'interceptors'> & { env?: NodeJS.ProcessEnv } = {},
): Promise<Client> {
  const { env, ...clientOptions } = options;
  const { connectionOptions, namespace, address } = temporalSettings(env);
  const dataConverter = configuredClientDataConverter(config);
  try {
    const connection = await Connection.connect({ ...connectionOptions, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace, dataConverter, ...clientOptions });
  } catch (error) {
    throw new Error(`cannot reach Temporal at ${address} (${(error as Error).message}); start the local stack with \`npx billing dev\` or set TEMPORAL_ADDRESS`);
  }
}

export async function connectWorkerConnection(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace, address } = temporalSettings();
  try {
    // The worker SDK (a native module) is loaded only by the commands that run a worker.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { NativeConnection: Native } = require('@temporalio/worker') as typeof import('@temporalio/worker');
    return { connection: await Native.connect(connectionOptions), namespace };
  } catch (error) {
    throw new Error(`cannot reach Temporal at ${address} (${(error as Error).message}); start the local stack with \`npx billing dev\` or set TEMPORAL_ADDRESS`);
  }
}
