/**
 * The payload codec that keeps subscribers' personal data out of Temporal in clear: every payload
 * the worker, the CLI or a test client sends is encrypted with AES-256-GCM under the current key
 * (a random 12-byte IV per payload; the key id is authenticated with it), and its metadata says
 * only `encoding: binary/encrypted` and `encryption-key-id: <id>`. Decoding picks the key by that
 * id, so every configured key reads what it encrypted (rotation: codec/keys.ts). A payload without
 * the encrypted encoding (a history recorded before encryption, a signal sent in clear with the
 * `temporal` CLI) passes through unchanged. It runs outside the workflow sandbox: in the worker's
 * data converter, the clients' and the codec server (codec/server.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKey } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

export class PayloadDecryptionError extends Error {}

const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: CodecKey | undefined;

  /** `keys`: the current key first; none, and payloads are sent in clear and only plain ones are read. */
  constructor(keys: readonly CodecKey[]) {
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.current = keys[0];
  }

  /** The id new payloads are encrypted under, if any. */
  get currentKeyId(): string | undefined {
    return this.current?.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.current;
    if (!current) return payloads;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, current.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(current.id, 'utf8'));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  private decodeOne(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new PayloadDecryptionError(`an encrypted payload carries no ${KEY_ID_METADATA} in its metadata: it was not written by this codec`);
    const key = this.keys.get(keyId);
    if (!key) {
      const configured =
        this.keys.size > 0
          ? `which is not among the configured keys (${[...this.keys.keys()].join(', ')}): add it, after the current key, to BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE`
          : 'but no encryption key is configured: set BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE (`billing dev` prints the line to export)';
      throw new PayloadDecryptionError(`a payload is encrypted with key "${keyId}", ${configured}`);
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`a payload encrypted with key "${keyId}" is ${data.length} bytes, too short to hold its IV and tag: it was cut or altered`);
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key "${keyId}" fails authentication: its ciphertext or key id was altered, or the key configured as "${keyId}" is not the one it was encrypted with`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
