/**
 * The support console as support uses it, in Debian's Chromium (driven by playwright-core, as
 * test/e2e/temporal-ui.test.ts drives it): sign in, find a subscriber by a number written another
 * way, read their month's chart, approve a limit request from the queue (htmx swaps the answer in),
 * see an invalid decision refused with its reason, sign out. Real dev server, worker, PostgreSQL
 * and SMTP server; the screenshots go to test/artifacts/.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { periodOf } from '../../billing/periods';
import type { RunningConsole } from '../../console/server';
import { createLimitRequest, getLimitRequest, limitRequestEvents } from '../../db/limit-requests';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import { limitRequestWorkflowId } from '../../workflows/messages';
import { givenStaff, startTestConsole } from '../helpers/console';
import { ARTIFACTS, launchChromium } from '../helpers/browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenCalls, givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';

const taskQueue = 'console-e2e-test';
const PASSWORD = 'correct horse battery staple';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
let consoleApp: RunningConsole;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [env, db, smtp, browser] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer(), launchChromium()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, shutdownGraceTime: '100 ms' });
  running = worker.run();
  consoleApp = await startTestConsole({ databaseUrl: db.url, pool: db.pool, client: env.client });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await consoleApp?.close();
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

test('support signs in, finds a subscriber by number, reads the chart, approves a request after a refused one, and signs out', async () => {
  // Given a support member, a business subscriber with 80 minutes used this month, and their pending request,
  await givenStaff(db.pool, { id: 'sam', password: PASSWORD });
  const period = periodOf(Date.now(), 'UTC');
  await givenSubscriber(db.pool, { id: 'acme', name: 'Acme Call Centre', business: true, numbers: ['+14155550123'], serviceStart: `${period}-01` });
  const start = Math.max(Date.parse(`${period}-01T00:00:00Z`), Date.now() - 3 * 3_600_000);
  const at = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  await givenCalls(db.pool, [
    { subscriber: 'acme', start: at(start), seconds: 3000 },
    { subscriber: 'acme', start: at(start + 3_600_000), seconds: 1800 },
  ]);
  const request = await createLimitRequest(db.pool, { subscriberId: 'acme', minutes: 4000, reason: 'Holiday season campaign', actor: 'test' });
  await env.client.workflow.start(limitRequestWorkflow, {
    workflowId: limitRequestWorkflowId(request.id),
    taskQueue,
    args: [
      {
        requestId: request.id,
        subscriberId: 'acme',
        requestedMinutes: 4000,
        timezone: 'UTC',
        currentLimitMinutes: 2400,
        ceilingMinutes: 20_000,
        reminderHours: 48,
        expiryDays: 14,
      },
    ],
  });

  // When they open the console, they are sent to sign in, and do.
  await page.goto(`${consoleApp.url}/queue`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Staff id or email').fill('sam');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-sign-in.png') });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Queue' }).waitFor();
  expect(await page.getByTestId('signed-in-as').innerText()).toBe('sam (support)');

  // They find the subscriber by the number as the customer wrote it on the phone,
  await page.getByRole('link', { name: 'Subscribers' }).click();
  await page.getByRole('searchbox').fill('(415) 555-0123');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByTestId('search-results').getByRole('link', { name: 'acme' }).click();

  // and read the month on their page: the terms, and the chart with the allowance line.
  await page.getByRole('heading', { name: /Acme Call Centre/ }).waitFor();
  expect(await page.getByTestId('terms').innerText()).toMatch(/Allowance\s+2,400 minutes/);
  const chart = page.getByTestId('usage-chart').locator('svg');
  expect(await chart.getAttribute('aria-label')).toMatch(new RegExp(`^Usage in ${period}: 80 of 2,400 allowed minutes by ${period}-\\d\\d$`));
  expect(await chart.locator('line.allowance').getAttribute('data-allowance-minutes')).toBe('2400');
  const bars = chart.locator('rect.bar');
  expect(await bars.last().getAttribute('data-cumulative-minutes')).toBe('80');
  expect(await page.getByTestId('usage-summary').innerText()).toContain('Used 80 min in 2 calls of 2400 min allowed');
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-subscriber.png'), fullPage: true });

  // From the request on their page to the queue: there an approval below the current limit is refused in place with the rule's reason,
  await page.getByRole('link', { name: 'decide in the queue' }).click();
  const item = page.getByTestId(`request-${request.id}`);
  await item.getByText('Holiday season campaign').waitFor();
  await item.getByLabel('Minutes').fill('100');
  await item.getByRole('button', { name: 'Approve' }).click();
  await item.getByRole('alert').getByText('Refused: approve minutes 100 must be above the current limit of 2400 minutes. Nothing was changed.').waitFor();
  expect(await getLimitRequest(db.pool, request.id)).toMatchObject({ status: 'pending' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-refused.png'), fullPage: true });

  // and the approval of what was asked is carried out and recorded with the member signed in.
  await item.getByLabel('Minutes').fill('');
  await item.getByRole('button', { name: 'Approve' }).click();
  await page.getByTestId(`decided-${request.id}`).getByText(`${request.id} (acme): approved by sam: 4000 minutes a month`).waitFor();
  expect(await getLimitRequest(db.pool, request.id)).toMatchObject({ status: 'approved', reviewer: 'sam', approvedMinutes: 4000 });
  expect((await limitRequestEvents(db.pool, request.id)).map((e) => [e.kind, e.actor])).toEqual([
    ['requested', 'test'],
    ['approved', 'sam'],
    ['applied', expect.any(String)],
  ]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-approved.png'), fullPage: true });

  // Signing out ends it: the queue asks to sign in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${consoleApp.url}/queue`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});
