/**
 * Personal data encrypted in Temporal (codec/): with BILLING_CODEC_KEYS set, the CLI (run
 * in-process with an environment of its own) and the worker encrypt every payload, so a history
 * read straight from the server, without the key, holds no subscriber's email, name or number,
 * not even in a refusal's message; the codec server gives them back over HTTP to the UI's origin
 * only (and with the token when one is set); a key rotation leaves the runs encrypted under the
 * old key readable. Real dev server, worker, PostgreSQL and SMTP server.
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { workerDataConverter } from '../../codec/data-converter';
import { EncryptionCodec } from '../../codec/encryption';
import { historyBytes, storedPayloads } from '../../codec/inspect';
import type { CodecKey } from '../../codec/keys';
import { startCodecServer, type RunningCodecServer } from '../../codec/server';
import { loadConfig } from '../../config';
import { temporalCliPath } from '../../stack/binaries';
import { onboardSubscriberWorkflowId, subscriberWorkflowId } from '../../workflows/messages';
import { cliAgainst } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { HISTORIES_DIR } from '../helpers/histories';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer, workflowBundle } from '../helpers/temporal';

const taskQueue = 'payload-encryption-test';
const UI_ORIGIN = 'http://ui.billing.test:8233';
const k1: CodecKey = { id: 'k1', key: randomBytes(32) };
const k2: CodecKey = { id: 'k2', key: randomBytes(32) };
const asEnv = (keys: CodecKey[]): string => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

const ada = { id: 'ada', email: 'ada.lovelace@example.org', name: 'Ada Lovelace', number: '+441632960001' };
const bea = { id: 'bea', email: 'beatrice.shilling@example.org', name: 'Beatrice Shilling', number: '+441632960002' };

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
/** A client without any codec: what anyone with access to the Temporal server reads. */
let raw: Client;
let cliKeys: CodecKey[] = [k1];
const billing = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue, extraEnv: { BILLING_CODEC_KEYS: asEnv(cliKeys) } }));

let worker: { worker: Worker; running: Promise<void> } | undefined;
async function runWorker(keys: CodecKey[]): Promise<void> {
  await stopWorker();
  const w = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, codecKeys: keys });
  worker = { worker: w, running: w.run() };
}
async function stopWorker(): Promise<void> {
  if (!worker) return;
  worker.worker.shutdown();
  await worker.running;
  worker = undefined;
}

const servers: RunningCodecServer[] = [];
async function codecServer(keys: CodecKey[], token?: string): Promise<RunningCodecServer> {
  const server = await startCodecServer({ codec: new EncryptionCodec(keys), origins: [UI_ORIGIN], token, port: 0 });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer(), workflowBundle({ encrypted: true })]);
  raw = new Client({ connection: env.connection, namespace: 'default' });
  await runWorker([k1]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await stopWorker();
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

async function rawHistory(workflowId: string) {
  return raw.workflow.getHandle(workflowId).fetchHistory();
}

function expectNothingInClear(bytes: Buffer, subscriber: typeof ada): void {
  for (const text of [subscriber.email, subscriber.name, subscriber.number, subscriber.number.slice(1)]) {
    expect({ text, found: bytes.includes(text) }).toEqual({ text, found: false });
  }
}

/** POST /decode as the Temporal UI does: proto3 JSON, every bytes field in base64. */
async function decodeOverHttp(server: RunningCodecServer, history: Awaited<ReturnType<typeof rawHistory>>, headers: Record<string, string> = {}) {
  const payloads = storedPayloads(history).encrypted.map(({ payload }) => ({
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(payload.data!).toString('base64'),
  }));
  return fetch(`${server.url}/default/decode`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: UI_ORIGIN, ...headers },
    body: JSON.stringify({ payloads }),
  });
}

/** The `temporal` CLI against the test's server. */
function temporalCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  return new Promise((resolve) => {
    execFile(temporalCliPath(loadConfig()), [...args, '--address', address, '--namespace', 'default'], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function decodedText(body: { payloads: { data: string }[] }): string {
  return body.payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
}

test('a subscriber added through the CLI leaves no email, name or number in clear in Temporal; a refusal quoting a number neither', async () => {
  // Given the CLI and the worker configured with the key k1,
  // when an operator adds a subscriber,
  const added = await billing('subscribers', 'add', '--id', ada.id, '--email', ada.email, '--name', ada.name, '--number', ada.number);
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`added subscriber ada (${ada.email}`);

  // then the onboarding's history and the cycle it started, read from the server without the key,
  for (const workflowId of [onboardSubscriberWorkflowId(ada.id), subscriberWorkflowId(ada.id)]) {
    const history = await rawHistory(workflowId);
    const stored = storedPayloads(history);
    // hold every payload encrypted under k1 (search attributes and headers aside: they are not payloads the codec sees;
    // nor the name of a patch, which the SDK's core records in its marker),
    expect(stored.plain.filter((p) => !/markerRecordedEventAttributes\.details\.patch-data\./.test(p.path))).toEqual([]);
    expect(stored.encrypted.length).toBeGreaterThan(0);
    expect(new Set(stored.encrypted.map((p) => p.keyId))).toEqual(new Set(['k1']));
    // and the subscriber's email, name and number appear nowhere in their bytes.
    expectNothingInClear(historyBytes(history), ada);
  }
  // The cycle is still found by its plain search attribute.
  const indexed = await raw.workflow.count(`SubscriberId = "${ada.id}"`);
  expect(indexed.count).toBeGreaterThanOrEqual(1);

  // When a second subscriber claims ada's number, the CLI reads the refusal in clear (exit 2),
  const refused = await billing('subscribers', 'add', '--id', 'ada-again', '--email', 'other@example.org', '--number', ada.number);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(ada.number);
  // while the failed onboarding's history on the server does not quote it.
  const failed = await rawHistory(onboardSubscriberWorkflowId('ada-again'));
  expect(failed.events!.at(-1)!.workflowExecutionFailedEventAttributes).toBeTruthy();
  const bytes = historyBytes(failed);
  expect(bytes.includes(ada.number)).toBe(false);
  expect(bytes.includes('other@example.org')).toBe(false);
  expect(bytes.includes('already registered')).toBe(false);
});

test("the codec server decodes the history for the UI's origin, and refuses other origins and a missing token", async () => {
  const history = await rawHistory(onboardSubscriberWorkflowId(ada.id));
  const server = await codecServer([k1]);

  // The UI's preflight is answered for its origin with the headers it sends,
  const preflight = await fetch(`${server.url}/decode`, {
    method: 'OPTIONS',
    headers: { Origin: UI_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);

  // and its POST /decode gives the payloads back in clear: the email, the name and the number.
  const decoded = await decodeOverHttp(server, history);
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  const text = decodedText((await decoded.json()) as { payloads: { data: string }[] });
  for (const value of [ada.email, ada.name, ada.number]) expect(text).toContain(value);

  // Another origin is refused, preflight and POST alike, without a byte of the payloads.
  const elsewhere = 'http://evil.example';
  const otherPreflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: elsewhere, 'Access-Control-Request-Method': 'POST' } });
  expect(otherPreflight.status).toBe(403);
  expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  const otherPost = await decodeOverHttp(server, history, { Origin: elsewhere });
  expect(otherPost.status).toBe(403);
  expect(await otherPost.text()).not.toContain(ada.email);

  // The `temporal` CLI shows ciphertext without the codec server and the subscriber with it;
  // a query's answer too (its empty argument list is sent to /encode as {}).
  const show = ['workflow', 'show', '--workflow-id', onboardSubscriberWorkflowId(ada.id), '--detailed'];
  const sealed = await temporalCli(...show);
  expect(sealed.code).toBe(0);
  expect(sealed.stdout).toContain('metadata.encryption-key-id');
  expect(sealed.stdout).not.toContain(ada.email);
  const opened = await temporalCli(...show, '--codec-endpoint', server.url);
  expect(opened.stdout).toContain(ada.email);
  // A failure's message as well: the refusal of ada's number, decoded by the CLI through the codec server.
  const failedShow = ['workflow', 'show', '--workflow-id', onboardSubscriberWorkflowId('ada-again'), '--detailed'];
  expect((await temporalCli(...failedShow)).stdout).not.toContain('already registered');
  expect((await temporalCli(...failedShow, '--codec-endpoint', server.url)).stdout).toContain(`already registered to another subscriber: Key (number)=(${ada.number})`);
  const query = await temporalCli('workflow', 'query', '--workflow-id', subscriberWorkflowId(ada.id), '--type', 'status', '--codec-endpoint', server.url);
  expect(query.stderr).toBe('');
  expect(query.stdout).toContain('"subscriberId":"ada"');

  // With a token, a POST without it, or with another, is refused; with it, answered.
  const token = randomBytes(24).toString('hex');
  const guarded = await codecServer([k1], token);
  const missing = await decodeOverHttp(guarded, history);
  expect(missing.status).toBe(401);
  expect(await missing.text()).not.toContain(ada.email);
  expect((await decodeOverHttp(guarded, history, { Authorization: 'Bearer not-the-token' })).status).toBe(401);
  const authorised = await decodeOverHttp(guarded, history, { Authorization: `Bearer ${token}` });
  expect(authorised.status).toBe(200);
  expect(decodedText((await authorised.json()) as { payloads: { data: string }[] })).toContain(ada.email);
  const cliWithToken = await temporalCli(...show, '--codec-endpoint', guarded.url, '--codec-auth', `Bearer ${token}`);
  expect(cliWithToken.stdout).toContain(ada.email);
});

test('a key rotation: with k2 current and k1 kept, new runs carry k2, the runs of k1 still decode and keep running', async () => {
  // Given the keys rotated: k2 current, k1 kept for the histories it encrypted,
  cliKeys = [k2, k1];
  await runWorker([k2, k1]);

  // when another subscriber is added,
  const added = await billing('subscribers', 'add', '--id', bea.id, '--email', bea.email, '--name', bea.name, '--number', bea.number);
  expect(added.code).toBe(0);

  // then their runs are encrypted under k2 only,
  const beaHistory = await rawHistory(onboardSubscriberWorkflowId(bea.id));
  expect(new Set(storedPayloads(beaHistory).encrypted.map((p) => p.keyId))).toEqual(new Set(['k2']));
  expectNothingInClear(historyBytes(beaHistory), bea);

  // ada's cycle, started under k1, is replayed by the new worker and answers the CLI's query,
  const status = await billing('status', ada.id, '--json');
  expect(status.stderr).toBe('');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('"subscriberId": "ada"');

  // and ada's old history decodes through a codec server with the rotated keys.
  const adaHistory = await rawHistory(onboardSubscriberWorkflowId(ada.id));
  const rotated = await codecServer([k2, k1]);
  const decoded = await decodeOverHttp(rotated, adaHistory);
  expect(decoded.status).toBe(200);
  expect(decodedText((await decoded.json()) as { payloads: { data: string }[] })).toContain(ada.email);

  // Once k1 is dropped, that history can no longer be read, and the codec server says why.
  const k2Only = await codecServer([k2]);
  const refused = await decodeOverHttp(k2Only, adaHistory);
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { message: string }).message).toBe(
    'a payload is encrypted with key "k1", which is not among the configured keys (k2): add it, after the current key, to BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE',
  );
});

test("the encrypted histories and the recorded plain ones replay with the worker's codec", async () => {
  const history = await rawHistory(onboardSubscriberWorkflowId(ada.id));
  const dataConverter = workerDataConverter([k2, k1]);
  const workflowBundleEncrypted = await workflowBundle({ encrypted: true });
  await Worker.runReplayHistory({ workflowBundle: workflowBundleEncrypted, dataConverter }, history, onboardSubscriberWorkflowId(ada.id));
  const recorded = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, 'onboard-subscriber-resumed.json'), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: workflowBundleEncrypted, dataConverter }, recorded, 'onboard-subscriber-resumed');
});
