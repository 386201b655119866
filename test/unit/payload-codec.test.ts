/**
 * The payload codec (codec/encryption.ts) and its keys (codec/keys.ts): AES-256-GCM round trips,
 * a random IV per payload, the key id in the metadata, rotation, and the errors a person reads
 * when a key is wrong, missing or a payload was altered; the codec server's protocol (its origin and
 * token checks are in test/integration/payload-encryption.test.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA, PayloadDecryptionError } from '../../codec/encryption';
import { codecKeysFromConfig, ensureDevKeyFile, parseCodecKeys, type CodecKey } from '../../codec/keys';
import { startCodecServer, type RunningCodecServer } from '../../codec/server';
import { ConfigError, loadConfig } from '../../config';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const k1 = key('k1');
const k2 = key('k2');
const line = (k: CodecKey): string => `${k.id}:${k.key.toString('base64')}`;
const subscriber = { id: 'alice', email: 'alice@example.com', name: 'Alice Moreau', numbers: ['+12125550101'] };
const meta = (p: Payload, name: string): string => Buffer.from(p.metadata![name]!).toString('utf8');

test('a payload round-trips, and what is sent holds neither the value nor its JSON encoding', async () => {
  const codec = new EncryptionCodec([k1]);
  const plain = defaultPayloadConverter.toPayload(subscriber)!;
  const [sent] = await codec.encode([plain]);
  expect(meta(sent!, 'encoding')).toBe(ENCRYPTED_ENCODING);
  expect(meta(sent!, KEY_ID_METADATA)).toBe('k1');
  const wire = Buffer.concat([Buffer.from(JSON.stringify(Object.keys(sent!.metadata!))), ...Object.values(sent!.metadata!).map((v) => Buffer.from(v!)), Buffer.from(sent!.data!)]);
  for (const text of ['alice@example.com', 'Alice', '+12125550101', 'json/plain']) expect(wire.includes(text)).toBe(false);
  const [back] = await codec.decode([sent!]);
  expect(defaultPayloadConverter.fromPayload(back!)).toEqual(subscriber);
});

test('each payload gets its own IV: the same value never encrypts to the same bytes', async () => {
  const codec = new EncryptionCodec([k1]);
  const plain = defaultPayloadConverter.toPayload('the same value')!;
  const [a, b] = await codec.encode([plain, plain]);
  expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
});

test('a payload that is not encrypted passes through decoding unchanged (histories recorded in clear replay)', async () => {
  const plain = defaultPayloadConverter.toPayload({ period: '2026-10' })!;
  expect(await new EncryptionCodec([k1]).decode([plain])).toEqual([plain]);
  expect(await new EncryptionCodec([]).decode([plain])).toEqual([plain]);
});

test('without keys nothing is encrypted', async () => {
  const plain = defaultPayloadConverter.toPayload('x')!;
  expect(await new EncryptionCodec([]).encode([plain])).toEqual([plain]);
});

test('rotation: k2 current with k1 kept encrypts under k2 and still reads what k1 encrypted', async () => {
  const [old] = await new EncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload('old')!]);
  const rotated = new EncryptionCodec([k2, k1]);
  const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('new')!]);
  expect(meta(fresh!, KEY_ID_METADATA)).toBe('k2');
  const decoded = await rotated.decode([old!, fresh!]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['old', 'new']);
});

test('an altered ciphertext, or a key id swapped in the metadata, fails with a clear error', async () => {
  const codec = new EncryptionCodec([k1, k2]);
  const [sent] = await codec.encode([defaultPayloadConverter.toPayload(subscriber)!]);
  const tampered = Buffer.from(sent!.data!);
  tampered[20] = tampered[20]! ^ 0x01;
  await expect(codec.decode([{ ...sent!, data: tampered }])).rejects.toThrow(
    'a payload encrypted with key "k1" fails authentication: its ciphertext or key id was altered, or the key configured as "k1" is not the one it was encrypted with',
  );
  const swapped = { ...sent!, metadata: { ...sent!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
  await expect(codec.decode([swapped])).rejects.toThrow('a payload encrypted with key "k2" fails authentication');
  await expect(codec.decode([{ ...sent!, data: Buffer.alloc(10) }])).rejects.toThrow('too short to hold its IV and tag');
});

test('an unknown key id says which keys are configured and where to add it', async () => {
  const [sent] = await new EncryptionCodec([key('k0')]).encode([defaultPayloadConverter.toPayload('x')!]);
  await expect(new EncryptionCodec([k2, k1]).decode([sent!])).rejects.toThrow(
    new PayloadDecryptionError(
      'a payload is encrypted with key "k0", which is not among the configured keys (k2, k1): add it, after the current key, to BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE',
    ),
  );
  await expect(new EncryptionCodec([]).decode([sent!])).rejects.toThrow(
    'a payload is encrypted with key "k0", but no encryption key is configured: set BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE',
  );
});

describe('keys from configuration', () => {
  test('BILLING_CODEC_KEYS lists id:base64 entries, the current key first', () => {
    const keys = codecKeysFromConfig(loadConfig({ BILLING_CODEC_KEYS: `${line(k2)}, ${line(k1)}` }));
    expect(keys!.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys![1]!.key.equals(k1.key)).toBe(true);
    expect(codecKeysFromConfig(loadConfig({}))).toBeNull();
  });

  test('a key file holds one a line, with comments', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-keys-'));
    const file = path.join(dir, 'keys');
    fs.writeFileSync(file, `# rotated 2026-12\n${line(k2)}\n${line(k1)}  # retired\n`);
    expect(codecKeysFromConfig(loadConfig({ BILLING_CODEC_KEY_FILE: file }))!.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => codecKeysFromConfig(loadConfig({ BILLING_CODEC_KEY_FILE: path.join(dir, 'missing') }))).toThrow(/BILLING_CODEC_KEY_FILE=.*missing cannot be read \(ENOENT\)/);
    fs.rmSync(dir, { recursive: true });
  });

  test.each([
    ['k1:' + randomBytes(16).toString('base64'), 'BILLING_CODEC_KEYS, entry 1: key "k1" is 16 bytes, AES-256 needs 32: generate one with `openssl rand -base64 32`'],
    ['k1:not*base64!', 'BILLING_CODEC_KEYS, entry 1: key "k1" is not valid base64'],
    [`${line(k1)},k1:${randomBytes(32).toString('base64')}`, 'BILLING_CODEC_KEYS, entry 2: key id "k1" is listed twice'],
    [randomBytes(32).toString('base64'), 'BILLING_CODEC_KEYS, entry 1 has no key id: write it as id:base64'],
    [`bad id:${randomBytes(32).toString('base64')}`, 'BILLING_CODEC_KEYS, entry 1: key id "bad id" is invalid'],
    [' , ', 'BILLING_CODEC_KEYS lists no key'],
  ])('%s is refused: %s', (value, message) => {
    let error: unknown;
    try {
      parseCodecKeys(value, 'BILLING_CODEC_KEYS');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    // The key's bytes are never part of the message.
    const material = value.split(/[,:]/).filter((part) => part.length >= 20);
    for (const secret of material) expect((error as Error).message).not.toContain(secret);
  });

  test('both the list and the file set is refused', () => {
    expect(() => codecKeysFromConfig({ codecKeys: line(k1), codecKeyFile: '/tmp/keys' })).toThrow('both BILLING_CODEC_KEYS and BILLING_CODEC_KEY_FILE are set');
  });

  test('a bad token is refused without being printed', () => {
    expect(() => loadConfig({ BILLING_CODEC_TOKEN: 'short-secret' })).toThrow('environment variable BILLING_CODEC_TOKEN="***" is invalid');
  });

  test("the local stack's key file is made once, readable by its owner only, and reused", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-dev-'));
    const file = path.join(dir, '.data', 'codec-keys');
    expect(ensureDevKeyFile(file)).toEqual({ file, created: true });
    const first = fs.readFileSync(file, 'utf8');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(ensureDevKeyFile(file)).toEqual({ file, created: false });
    expect(fs.readFileSync(file, 'utf8')).toBe(first);
    expect(parseCodecKeys(first, file).map((k) => k.id)).toEqual(['dev-1']);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("the codec server's protocol", () => {
  let server: RunningCodecServer;
  const codec = new EncryptionCodec([k1]);
  beforeAll(async () => {
    server = await startCodecServer({ codec, origins: ['http://localhost:8233'], port: 0 });
  });
  afterAll(() => server.close());
  const post = (route: string, body: string) => fetch(`${server.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

  test('encode then decode round-trips proto3 JSON, with or without a namespace segment', async () => {
    const plain = defaultPayloadConverter.toPayload(subscriber)!;
    const json = { payloads: [{ metadata: { encoding: Buffer.from(plain.metadata!.encoding!).toString('base64') }, data: Buffer.from(plain.data!).toString('base64') }] };
    const encoded = (await (await post('/encode', JSON.stringify(json))).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.payloads[0]!.metadata[KEY_ID_METADATA]!, 'base64').toString()).toBe('k1');
    const decoded = await (await post('/default/decode', JSON.stringify(encoded))).json();
    expect(decoded).toEqual(json);
  });

  test('an empty list may be left out, as proto3 JSON does ({})', async () => {
    const response = await post('/encode', '{}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ payloads: [] });
  });

  test.each([
    ['/decode', 'not json', 400, 'the body is not JSON'],
    ['/decode', '{"payloads": 3}', 400, '"payloads" is not an array'],
    ['/decode', '{"payloads": [{"data": "***"}]}', 400, 'payloads[0].data must be a base64 string'],
    ['/nothing', '{}', 404, 'not found'],
  ])('POST %s %s answers %i', async (route, body, status, message) => {
    const response = await post(route, body);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { message: string }).message).toContain(message);
  });

  test('only POST (and the preflight) is allowed', async () => {
    const response = await fetch(`${server.url}/decode`);
    expect(response.status).toBe(405);
  });

  test('a taken port is named with what to do', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startCodecServer({ codec, origins: [], port })).rejects.toThrow(`port ${port} on 127.0.0.1 is taken: is another codec server`);
  });
});
