/**
 * The Temporal UI as an engineer uses it: Debian's Chromium (driven by playwright-core) opens the
 * dev server's web UI, filters the workflows by the SubscriberId search attribute, and reads that
 * subscriber's cycle, with the current details the workflow sets. Payloads are encrypted, as
 * `billing dev` runs by default: the server holds ciphertext and the UI decodes through a codec
 * server (`--ui-codec-endpoint`). Real dev server, worker, PostgreSQL and SMTP server; the
 * screenshots go to test/artifacts/.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { periodOf } from '../../billing/periods';
import { EncryptionCodec } from '../../codec/encryption';
import { historyBytes, storedPayloads } from '../../codec/inspect';
import type { CodecKey } from '../../codec/keys';
import { localUiOrigins, startCodecServer, type RunningCodecServer } from '../../codec/server';
import { freePort } from '../../stack/processes';
import { cycleSummary } from '../../billing/cycle-details';
import { closeCycleSignal, subscriberWorkflowId } from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { ARTIFACTS, launchChromium } from '../helpers/browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, clientWithKeys, startDevServerWithUi } from '../helpers/temporal';

const taskQueue = 'temporal-ui-test';

let env: TestWorkflowEnvironment;
let uiUrl: string;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
let browser: Browser;
let page: Page;
let codecServer: RunningCodecServer;
const key: CodecKey = { id: 'ui-test', key: randomBytes(32) };
/** The payloads the UI asked the codec server to decode. */
let decodedForUi = 0;

beforeAll(async () => {
  const uiPort = await freePort();
  const codec = new EncryptionCodec([key]);
  codecServer = await startCodecServer({
    codec: {
      encode: (payloads) => codec.encode(payloads),
      decode: (payloads) => {
        decodedForUi += payloads.length;
        return codec.decode(payloads);
      },
    },
    origins: localUiOrigins(uiPort),
    port: 0,
  });
  let dev: { env: TestWorkflowEnvironment; uiUrl: string };
  [dev, db, smtp, browser] = await Promise.all([startDevServerWithUi({ uiPort, uiCodecEndpoint: codecServer.url }), createTestDatabase(), startSmtpServer(), launchChromium()]);
  ({ env, uiUrl } = dev);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, codecKeys: [key], shutdownGraceTime: '100 ms' }); // stopped after the tests only
  running = worker.run();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await browser?.close();
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close(), codecServer?.close()]);
});

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("an engineer filters the workflows by SubscriberId in the Temporal UI and reads that subscriber's cycle", async () => {
  // Given two subscribers whose cycles for this month are running (started as `subscribers add` starts them),
  const period = periodOf(Date.now(), 'UTC');
  for (const id of ['ada', 'bob']) {
    await givenSubscriber(db.pool, { id, serviceStart: `${period}-01` });
    await clientWithKeys(env, [key]).workflow.start(subscriberWorkflow, {
      workflowId: subscriberWorkflowId(id),
      taskQueue,
      args: [{ subscriberId: id, period }],
      staticSummary: `Billing cycle of subscriber ${id}`,
    });
  }
  // and both are searchable by their SubscriberId (set in each cycle's first workflow task),
  await waitFor(async () => (await env.client.workflow.count('SubscriberId IN ("ada", "bob")')).count === 2, 'both cycles indexed by SubscriberId');
  // while the server holds their summaries and inputs encrypted (env.client has no codec),
  const stored = await env.client.workflow.getHandle(subscriberWorkflowId('ada')).fetchHistory();
  expect(storedPayloads(stored).encrypted.length).toBeGreaterThan(0);
  expect(historyBytes(stored).includes('Billing cycle of subscriber')).toBe(false);

  // and the UI's workflows list shows both,
  const link = (workflowId: string) => page.getByRole('link', { name: workflowId, exact: true });
  await page.goto(`${uiUrl}/namespaces/default/workflows`);
  await Promise.all([link('subscriber-ada').waitFor(), link('subscriber-bob').waitFor()]);

  // when the engineer filters it by SubscriberId = "ada",
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent('SubscriberId="ada"')}`);

  // then only ada's cycle is listed.
  const rows = page.getByTestId('workflows-summary-configurable-table-row');
  await link('subscriber-ada').waitFor();
  expect(await rows.count()).toBe(1);
  expect(await rows.first().innerText()).toMatch(/running/i);
  expect(await page.getByText('subscriber-bob').count()).toBe(0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-subscriber-filter.png'), fullPage: true });

  // When they open it and look at its metadata,
  await link('subscriber-ada').click();
  await page.getByTestId('workflow-id-heading').getByText('subscriber-ada').waitFor();
  await page.getByTestId('user-metadata-tab').click();

  // then they read the cycle's current details as the workflow set them (the UI asks the running
  // worker for them and renders their markdown in its own frame), under the summary it was started with.
  const details = page.frameLocator('#user-metadata-current-details');
  await details.getByText(`ada, ${period}: open. No invoice yet.`).waitFor();
  expect(await details.locator('strong').innerText()).toBe('ada');
  await details.getByText('Billing cycle of subscriber ada').waitFor();
  await page.frameLocator('#user-metadata-summary').getByText('Billing cycle of subscriber ada').waitFor();
  // Both were encrypted on the server: the UI read them through the codec server.
  expect(decodedForUi).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-subscriber-details.png'), fullPage: true });
});

test("a run that continued as new shows the same summary, and its month's invoice with its currency", async () => {
  // Given a cycle started last month whose month is closed (no grace: it is over), so that it has
  // continued as new with this month, which no client started (no static summary of its own),
  const now = new Date();
  const current = periodOf(now.getTime(), 'UTC');
  const last = periodOf(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15), 'UTC');
  await givenSubscriber(db.pool, { id: 'cyd', serviceStart: `${last}-01`, monthlyFeeCents: 1000 });
  const handle = await clientWithKeys(env, [key]).workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('cyd'),
    taskQueue,
    args: [{ subscriberId: 'cyd', period: last }],
    staticSummary: cycleSummary('cyd'),
  });
  await handle.signal(closeCycleSignal, { period: last, graceHours: 0 });
  await waitFor(async () => (await env.client.workflow.count(`SubscriberId = "cyd" AND BillingPeriod = "${current}"`)).count === 1, "cyd's cycle continued with this month");

  // when the engineer opens the subscriber's workflow (its latest run) and looks at its metadata,
  await page.goto(`${uiUrl}/namespaces/default/workflows/${subscriberWorkflowId('cyd')}`);
  await page.getByTestId('workflow-id-heading').getByText('subscriber-cyd').waitFor();
  await page.getByTestId('user-metadata-tab').click();

  // then its current details start with the same summary, and name last month's invoice in its currency.
  const details = page.frameLocator('#user-metadata-current-details');
  await details.getByText('Billing cycle of subscriber cyd').waitFor();
  await details.getByText(`cyd, ${current}: open. Last invoice INV-${last}-cyd: 10.00 USD, overage 0 min.`).waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-continued-run-details.png'), fullPage: true });
});
