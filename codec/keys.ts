/**
 * The keys of the payload codec (codec/encryption.ts), from configuration: BILLING_CODEC_KEYS
 * (`k2:BASE64,k1:BASE64`) or BILLING_CODEC_KEY_FILE (the same, one key a line, `#` comments). The
 * first key is the current one, which encrypts; every key listed decrypts, so a rotation puts the
 * new key first and keeps the old ones after it for as long as histories encrypted with them are
 * read. Each key is 32 random bytes in base64 (`openssl rand -base64 32`). Errors name the key's id
 * and position, never its bytes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config';

export interface CodecKey {
  /** Written into every payload the key encrypts (metadata `encryption-key-id`); letters, digits, . _ - */
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses `id:base64` entries separated by commas or new lines; `where` names the source in errors. */
export function parseCodecKeys(text: string, where: string): CodecKey[] {
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0)
    throw new ConfigError(`${where} lists no key: give one or more id:base64 entries, the current key first (generate a key with \`openssl rand -base64 32\`)`);
  const keys: CodecKey[] = [];
  entries.forEach((entry, index) => {
    const at = `${where}, entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ConfigError(`${at} has no key id: write it as id:base64, e.g. k1:<32 random bytes in base64>`);
    const id = entry.slice(0, colon).trim();
    const material = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) throw new ConfigError(`${at}: key id ${JSON.stringify(id)} is invalid: use 1 to 64 letters, digits, dots, underscores or hyphens`);
    if (!BASE64.test(material)) throw new ConfigError(`${at}: key "${id}" is not valid base64: generate one with \`openssl rand -base64 32\``);
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES) throw new ConfigError(`${at}: key "${id}" is ${key.length} bytes, AES-256 needs ${KEY_BYTES}: generate one with \`openssl rand -base64 32\``);
    if (keys.some((k) => k.id === id)) throw new ConfigError(`${at}: key id "${id}" is listed twice: each key needs its own id (the current key first, the older ones after it)`);
    keys.push({ id, key });
  });
  return keys;
}

/** The configured keys, the current one first; null when none is configured (payloads stay plain). */
export function codecKeysFromConfig(config: Pick<Config, 'codecKeys' | 'codecKeyFile'>): CodecKey[] | null {
  if (config.codecKeys !== undefined && config.codecKeyFile !== undefined) {
    throw new ConfigError('both BILLING_CODEC_KEYS and BILLING_CODEC_KEY_FILE are set: configure the keys in one of them');
  }
  if (config.codecKeys !== undefined) return parseCodecKeys(config.codecKeys, 'BILLING_CODEC_KEYS');
  if (config.codecKeyFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(config.codecKeyFile, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `BILLING_CODEC_KEY_FILE=${config.codecKeyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): point it at a file of id:base64 lines`,
      );
    }
    return parseCodecKeys(text, `BILLING_CODEC_KEY_FILE ${config.codecKeyFile}`);
  }
  return null;
}

/** A new key as a line of a key file: `id:base64`. */
export function newKeyLine(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The key file of the local stack (`billing dev`, `billing demo`): created once with a random key,
 * readable by its owner only, and reused, so the runs kept under .data/ stay readable.
 */
export function ensureDevKeyFile(file: string): { file: string; created: boolean } {
  if (fs.existsSync(file)) return { file, created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const header = '# Payload encryption key of the local stack (billing dev): id:base64, the current key first.\n';
  fs.writeFileSync(file, `${header}${newKeyLine('dev-1')}\n`, { mode: 0o600, flag: 'wx' });
  return { file, created: true };
}
