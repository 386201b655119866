/**
 * Support's decisions from the `temporal` CLI, as the README and the support notice show them, on a
 * real dev server with a billing worker: `temporal workflow update execute` answers with the
 * outcome (or exits non-zero with the reason), and `temporal workflow signal` still decides.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { loadConfig } from '../../config';
import { createLimitRequest, getLimitRequest, limitGrantsFor, limitRequestEvents } from '../../db/limit-requests';
import { insertStaff } from '../../db/staff';
import { temporalCliPath } from '../../stack/binaries';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import { limitRequestStatusQuery, limitRequestWorkflowId } from '../../workflows/messages';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenSubscriber } from '../helpers/fixtures';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';
import { until } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'temporal-cli-decisions-test';

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, shutdownGraceTime: '100 ms' }); // stopped after the tests only
  running = worker.run();
  await insertStaff(db.pool, { id: 'sam', email: 'sam@support.test' });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

/** Runs the `temporal` CLI against the dev server. */
function temporal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  return new Promise((resolve) => {
    execFile(
      temporalCliPath(loadConfig()),
      [...args, '--address', address, '--namespace', 'default'],
      { timeout: 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

async function givenRequest(subscriberId: string) {
  await givenSubscriber(db.pool, { id: subscriberId, serviceStart: '2026-01-01' });
  const request = await createLimitRequest(db.pool, { subscriberId, minutes: 4000, reason: 'Call centre season', actor: 'test' });
  const handle = await env.client.workflow.start(limitRequestWorkflow, {
    workflowId: limitRequestWorkflowId(request.id),
    taskQueue,
    args: [{ requestId: request.id, subscriberId, requestedMinutes: 4000, timezone: 'UTC', currentLimitMinutes: 2400, ceilingMinutes: 20_000, reminderHours: 48, expiryDays: 14 }],
  });
  return { id: request.id, handle };
}

test('temporal workflow update execute approves with the outcome in its answer, or exits non-zero with the reason and records nothing', async () => {
  const { id, handle } = await givenRequest('ann');
  const workflowId = limitRequestWorkflowId(id);

  const refused = await temporal('workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'approve', '--input', '{"reviewer": "sam", "minutes": 100}');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('approve minutes 100 must be above the current limit of 2400 minutes');
  expect(await handle.query(limitRequestStatusQuery)).toMatchObject({ state: 'pending', rejectedDecisions: [] });

  const approved = await temporal(
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    workflowId,
    '--name',
    'approve',
    '--input',
    '{"reviewer": "sam", "minutes": 4500}',
    '--output',
    'json',
  );
  expect(approved).toMatchObject({ code: 0 });
  expect(JSON.parse(approved.stdout)).toMatchObject({ result: { state: 'approved', settled: true, decision: { kind: 'approve', reviewer: 'sam', minutes: 4500 } } });
  // Answered once carried out: the limit is recorded by then.
  expect(await getLimitRequest(db.pool, id)).toMatchObject({ status: 'approved', approvedMinutes: 4500 });
  expect((await limitGrantsFor(db.pool, 'ann')).map((g) => g.minutes)).toEqual([4500]);
  expect((await limitRequestEvents(db.pool, id)).map((e) => e.kind)).toEqual(['requested', 'approved', 'applied']);
});

test('temporal workflow signal still rejects a request, by the same rules', async () => {
  const { id, handle } = await givenRequest('ben');
  const signalled = await temporal(
    'workflow',
    'signal',
    '--workflow-id',
    limitRequestWorkflowId(id),
    '--name',
    'reject',
    '--input',
    '{"reviewer": "sam", "reason": "Usage does not justify it"}',
  );
  expect(signalled).toMatchObject({ code: 0 });
  const settled = await until(
    () => handle.query(limitRequestStatusQuery),
    (s) => s.settled,
  );
  expect(settled).toMatchObject({ state: 'rejected', decision: { kind: 'reject', reviewer: 'sam', reason: 'Usage does not justify it' } });
  expect(await getLimitRequest(db.pool, id)).toMatchObject({ status: 'rejected', reviewer: 'sam' });
  expect((await limitRequestEvents(db.pool, id)).map((e) => e.kind)).toEqual(['requested', 'rejected']);
  expect(await limitGrantsFor(db.pool, 'ben')).toEqual([]);
});
