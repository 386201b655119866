/**
 * What a history holds as it is stored: its payloads read without any key, for the demo's check and
 * the tests'. Search attributes and headers are never encoded by the SDK and are left out.
 */
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from './encryption';

export interface StoredPayloads {
  /** Every encrypted payload, with its key id. */
  encrypted: { keyId: string; payload: Payload }[];
  /** Where payloads in another encoding sit, and their encoding. */
  plain: { path: string; encoding: string }[];
}

const SKIPPED = new Set(['searchAttributes', 'header']);

export function storedPayloads(history: temporal.api.history.v1.IHistory): StoredPayloads {
  const found: StoredPayloads = { encrypted: [], plain: [] };
  const walk = (value: unknown, at: string): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${at}[${i}]`));
      return;
    }
    const record = value as Record<string, unknown>;
    const metadata = record.metadata as Record<string, Uint8Array> | undefined;
    if (metadata && typeof metadata === 'object' && metadata[METADATA_ENCODING_KEY] instanceof Uint8Array) {
      const encoding = Buffer.from(metadata[METADATA_ENCODING_KEY]).toString('utf8');
      if (encoding === ENCRYPTED_ENCODING) found.encrypted.push({ keyId: Buffer.from(metadata[KEY_ID_METADATA] ?? []).toString('utf8'), payload: record as Payload });
      else found.plain.push({ path: at, encoding });
      return;
    }
    for (const [key, child] of Object.entries(record)) if (!SKIPPED.has(key)) walk(child, at ? `${at}.${key}` : key);
  };
  walk(history, '');
  return found;
}

/** The history's bytes as the server stores and sends them, to search for text in clear. */
export function historyBytes(history: temporal.api.history.v1.IHistory): Buffer {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}
