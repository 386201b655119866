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

export function temporalSettings(): { address: string; namespace: string; connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'] } {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { address: connectionOptions.address ?? 'localhost:7233', namespace: namespace ?? 'default', connectionOptions };
}

/**
 * A client with the payload codec of the configured keys (BILLING_CODEC_KEYS or
 * BILLING_CODEC_KEY_FILE, codec/keys.ts): what it sends is encrypted, what it reads decrypted.
 * `options`: more of the client's settings (the worker's tracing interceptors).
 */
export async function connectClient(config: Pick<Config, 'codecKeys' | 'codecKeyFile'> = loadConfig(), options: Pick<ClientOptions, 'interceptors'> = {}): Promise<Client> {
  const { connectionOptions, namespace, address } = temporalSettings();
  const dataConverter = configuredClientDataConverter(config);
  try {
    const connection = await Connection.connect({ ...connectionOptions, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace, dataConverter, ...options });
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
