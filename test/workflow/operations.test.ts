/**
 * Operations run as workflows (issue 13): onboarding a subscriber and recording a limit request,
 * on the time-skipping server with real PostgreSQL and SMTP. A worker is stopped half way, right
 * after the operation's first activity committed its write and before it could report it; a new
 * worker on the same task queue finishes the operation, and nothing is done twice.
 */
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import nodemailer from 'nodemailer';
import { addDays, dayOf } from '../../billing/policy-revision';
import { createActivities, type Activities } from '../../activities';
import { publishPolicyRevision } from '../../client/policy-revisions';
import { onboardSubscriberWorkflow } from '../../workflows/onboard-subscriber';
import { recordLimitRequestWorkflow } from '../../workflows/record-limit-request';
import {
  limitRequestWorkflowId, onboardSubscriberWorkflowId, OPERATION_REFUSED, policyChangeStatusQuery, recordLimitRequestWorkflowId, subscriberWorkflowId,
} from '../../workflows/messages';
import { cliAgainst } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenCalls, givenSubscriber } from '../helpers/fixtures';
import { recordHistory } from '../helpers/histories';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startTimeSkippingServer, TEST_MAIL_FROM, TEST_OPS_EMAIL, TEST_SUPPORT_EMAIL, workflowBundle } from '../helpers/temporal';
import { outboxRows, until, untilAtRest, untilOutboxSent } from '../helpers/wait';

const taskQueue = 'operations-test';
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: { shutdown: () => void; running: Promise<void> } | undefined;

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startTimeSkippingServer(), createTestDatabase(), startSmtpServer()]);
});
afterAll(async () => {
  worker?.shutdown();
  await worker?.running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

/**
 * A worker whose `activity` commits its write and then never reports it: it hangs until the
 * worker shuts down (as a process killed between its COMMIT and its answer to the server). It
 * keeps no runs in memory, so its successor is handed every workflow task at once.
 */
async function startWorkerThatStopsAfter(activity: keyof Activities): Promise<void> {
  worker?.shutdown();
  await worker?.running;
  const mailer = nodemailer.createTransport({ url: smtp.url });
  const real = createActivities({
    pool: db.pool, mailer, mailFrom: TEST_MAIL_FROM, temporal: env.client, taskQueue, billingOpsEmail: TEST_OPS_EMAIL, supportEmail: TEST_SUPPORT_EMAIL, closeGraceHours: 6,
  });
  const stopping = async (...args: unknown[]): Promise<never> => {
    await (real[activity] as (...a: unknown[]) => Promise<unknown>)(...args);
    await Context.current().cancelled;
    throw new Error('unreachable');
  };
  const w = await Worker.create({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: await workflowBundle(),
    activities: { ...real, [activity]: stopping }, maxCachedWorkflows: 0, shutdownGraceTime: '100 ms',
  });
  worker = { shutdown: () => w.shutdown(), running: w.run().finally(() => mailer.close()) };
}

/** Stops the worker (its activity in hand fails) and starts a billing worker on the same task queue. */
async function replaceWorker(): Promise<void> {
  worker!.shutdown();
  await worker!.running;
  const next = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue });
  worker = { shutdown: () => next.shutdown(), running: next.run() };
}

/** How many attempts of an activity type a workflow's history started. */
async function attempts(workflowId: string, activityType: string): Promise<number> {
  const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType).map((e) => String(e.eventId)));
  const started = events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
  return Math.max(0, ...started.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0));
}

/** Waits for a workflow to close without unlocking time skipping (a policy revision's timers wait). */
async function untilClosed(workflowId: string) {
  const handle = env.client.workflow.getHandle(workflowId);
  await until(() => handle.describe(), (d) => d.status.name !== 'RUNNING');
  return handle;
}

const count = async (sql: string, params: unknown[]): Promise<number> => (await db.pool.query(sql, params)).rows[0].n as number;

test('onboarding resumes on a new worker after the first stopped right after inserting the subscriber: one subscriber, one entity, one notice, earlier calls attributed once', async () => {
  await startWorkerThatStopsAfter('registerSubscriber');
  // Given a policy revision in flight, and a call of zoe's that arrived before she was registered.
  const today = dayOf(await env.currentTimeMs());
  const eff = addDays(today, 30);
  const published = await publishPolicyRevision(db.pool, env.client, { effectiveFrom: eff, changes: { includedMinutes: 3000 }, today, publishedBy: 'test', taskQueue, batchSize: 50, retryMaxMinutes: 180 });
  const revision = env.client.workflow.getHandle(published.workflowId);
  await until(() => revision.query(policyChangeStatusQuery), (s) => s.phase === 'scheduled');
  await givenCalls(db.pool, [{ subscriber: 'zoe', start: `${today} 10:00:00`, seconds: 600 }]);

  const workflowId = onboardSubscriberWorkflowId('zoe');
  await env.client.workflow.start(onboardSubscriberWorkflow, {
    workflowId, taskQueue,
    args: [{ id: 'zoe', email: 'zoe@example.test', timezone: 'UTC', business: false, monthlyFeeCents: 1500, serviceStart: today, numbers: ['+14155550199'] }],
  });
  // The write is committed (a durable fact), its report never made: the worker goes away.
  await until(() => count(`SELECT count(*)::int AS n FROM subscribers WHERE id = 'zoe'`, []), (n) => n === 1);
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  expect(await handle.result()).toMatchObject({
    subscriberId: 'zoe', entityWorkflowId: 'subscriber-zoe', firstPeriod: today.slice(0, 7), earlierRecordsAttributed: 1,
    policyNotices: [{ version: published.revision.version, workflowId: published.workflowId, handedOver: true }],
  });
  // The insert ran twice (the second attempt on the new worker) and wrote once.
  expect(await attempts(workflowId, 'registerSubscriber')).toBe(2);
  expect(await count(`SELECT count(*)::int AS n FROM subscribers WHERE id = 'zoe'`, [])).toBe(1);
  expect(await count(`SELECT count(*)::int AS n FROM subscriber_numbers WHERE subscriber_id = 'zoe'`, [])).toBe(1);
  expect(await count(`SELECT count(*)::int AS n FROM operation_writes WHERE key LIKE $1`, [`${workflowId}/%`])).toBe(1);
  expect(await count(`SELECT count(*)::int AS n FROM calls WHERE subscriber_id = 'zoe'`, [])).toBe(1);
  // One entity, in its first run, started once.
  const entity = env.client.workflow.getHandle(subscriberWorkflowId('zoe'));
  expect((await entity.describe()).status.name).toBe('RUNNING');
  expect((await entity.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId).toBeFalsy();
  expect(await attempts(workflowId, 'startSubscriberCycle')).toBe(1);
  // The notice is sent once: its outbox row is sent and the revision has nothing left to do now.
  const notices = await until(() => outboxRows(db.pool, `policy:${published.revision.version}:notice:zoe%`), (rows) => rows.some((r) => r.status === 'sent'));
  await untilAtRest(env.client, [published.workflowId]);
  expect(notices).toHaveLength(1);
  expect(smtp.received.filter((m) => m.to.includes('zoe@example.test') && m.subject.startsWith('Changes to the RedConnect Fair Usage Policy'))).toHaveLength(1);
  recordHistory('onboard-subscriber-resumed', await handle.fetchHistory());
});

test('`billing subscribers add` for a subscriber who exists exits 2 with one line; the onboarding writes nothing', async () => {
  const billing = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue }));
  const again = await billing('subscribers', 'add', '--id', 'zoe', '--email', 'zoe2@example.test');
  expect(again.code).toBe(2);
  expect(again.stderr.trim()).toBe('billing: subscriber "zoe" already exists');
  const taken = await billing('subscribers', 'add', '--id', 'zed', '--email', 'zed@example.test', '--number', '+14155550199');
  expect(taken.code).toBe(2);
  expect(taken.stderr.trim().split('\n')).toHaveLength(1);
  expect(taken.stderr).toContain('number already registered to another subscriber');
  expect(await count(`SELECT count(*)::int AS n FROM subscribers WHERE id = 'zed'`, [])).toBe(0);

  const added = await billing('subscribers', 'add', '--id', 'yan', '--email', 'yan@example.test');
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`started subscriber-yan for`);
});

test('a limit request resumes on a new worker after the first stopped right after recording it: one request, one limit-request workflow, each acknowledgement once', async () => {
  await givenSubscriber(db.pool, { id: 'acme', business: true });
  await startWorkerThatStopsAfter('recordLimitRequest');
  const workflowId = recordLimitRequestWorkflowId('acme', 1);
  const input = {
    subscriberId: 'acme', minutes: 4000, reason: 'Call centre season', actor: 'test', timezone: 'UTC',
    currentLimitMinutes: 2400, ceilingMinutes: 20_000, reminderHours: 48, expiryDays: 14,
  };
  await env.client.workflow.start(recordLimitRequestWorkflow, { workflowId, taskQueue, args: [input] });
  // The request is committed (a durable fact), its report never made: the worker goes away.
  await until(() => count(`SELECT count(*)::int AS n FROM limit_requests WHERE subscriber_id = 'acme'`, []), (n) => n === 1);
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  const { request, workflowId: started } = await handle.result();
  expect(request).toMatchObject({ subscriberId: 'acme', requestedMinutes: 4000, status: 'pending' });
  expect(started).toBe(limitRequestWorkflowId(request.id));
  expect(await attempts(workflowId, 'recordLimitRequest')).toBe(2);
  expect(await count(`SELECT count(*)::int AS n FROM limit_requests WHERE subscriber_id = 'acme'`, [])).toBe(1);
  expect(await count(`SELECT count(*)::int AS n FROM limit_request_events WHERE request_id = $1`, [request.id])).toBe(1);
  expect(await count(`SELECT count(*)::int AS n FROM operation_writes WHERE key LIKE $1`, [`${workflowId}/%`])).toBe(1);
  // Its workflow runs, started once, and acknowledges it to the subscriber and support once each.
  const requestHandle = env.client.workflow.getHandle(started);
  expect((await requestHandle.describe()).status.name).toBe('RUNNING');
  expect(await attempts(workflowId, 'startLimitRequestProcess')).toBe(1);
  await untilOutboxSent(db.pool, `limit-request:${request.id}:%`, 2);
  await untilAtRest(env.client, [started]);
  const mail = smtp.received.filter((m) => m.subject.includes(request.id) || m.text.includes(request.id));
  expect(mail.map((m) => m.to[0]).sort()).toEqual(['acme@example.test', TEST_SUPPORT_EMAIL]);
  recordHistory('record-limit-request-resumed', await handle.fetchHistory());

  // A second request while this one is pending is refused by the operation's first activity, for good, with nothing written.
  const second = env.client.workflow.start(recordLimitRequestWorkflow, { workflowId: recordLimitRequestWorkflowId('acme', 2), taskQueue, args: [input] });
  const failure = await (await second).result().catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: OPERATION_REFUSED, message: expect.stringContaining(`already has a pending limit request, ${request.id}`) });
  expect(await count(`SELECT count(*)::int AS n FROM limit_requests WHERE subscriber_id = 'acme'`, [])).toBe(1);
});

test('`billing limit request` records a request through its workflow and prints where it waits', async () => {
  await givenSubscriber(db.pool, { id: 'bizz', business: true });
  const billing = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue }));
  const asked = await billing('limit', 'request', '--subscriber', 'bizz', '--minutes', '5000', '--reason', 'Launch month');
  expect(asked.code).toBe(0);
  const id = /recorded limit request (LR-\d+): bizz asks for 5000 minutes a month \(now 2400\); started limit-request-(LR-\d+)/.exec(asked.stdout);
  expect(id?.[1]).toBe(id?.[2]);
  expect((await env.client.workflow.getHandle(recordLimitRequestWorkflowId('bizz', 1)).describe()).status.name).toBe('COMPLETED');
});
