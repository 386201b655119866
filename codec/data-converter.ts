/** The data converter of the clients and the worker, with the payload codec of codec/encryption.ts. */
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { EncryptionCodec } from './encryption';
import { codecKeysFromConfig, type CodecKey } from './keys';

/**
 * The failure converter's module when payloads are encrypted (codec/failure-converter.ts): loaded
 * by path, by clients and by the worker for activities, and bundled into the workflow code.
 */
export const ENCRYPTING_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * A client's data converter. Without keys its codec sends payloads in clear and, met with an
 * encrypted one, says which key is missing instead of the payload converter's "unknown encoding".
 */
export function clientDataConverter(keys: readonly CodecKey[] | null): DataConverter {
  if (!keys) return { payloadCodecs: [new EncryptionCodec([])] };
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH };
}

/** The worker's: none without keys (no codec pass over every activation), else the client's. */
export function workerDataConverter(keys: readonly CodecKey[] | null): DataConverter | undefined {
  return keys ? clientDataConverter(keys) : undefined;
}

/** The configured keys' client data converter. */
export function configuredClientDataConverter(config: Pick<Config, 'codecKeys' | 'codecKeyFile'>): DataConverter {
  return clientDataConverter(codecKeysFromConfig(config));
}
