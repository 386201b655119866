/**
 * Operations run as workflows (issue 13): onboarding a subscriber, recording a limit request,
 * publishing a policy revision, an import's follow-up and a rematch, on the time-skipping server with real PostgreSQL and SMTP. A worker is stopped half way, right
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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { periodOf } from '../../billing/periods';
import { addDays, dayOf } from '../../billing/policy-revision';
import { createActivities, type Activities } from '../../activities';
import { publishPolicyRevision } from '../../client/policy-revisions';
import { nextPolicyVersion, scheduledPolicy } from '../../db/policies';
import { onboardSubscriberWorkflow } from '../../workflows/onboard-subscriber';
import { publishPolicyWorkflow } from '../../workflows/publish-policy';
import { recordLimitRequestWorkflow } from '../../workflows/record-limit-request';
import { usageImportFollowUpWorkflow, usageRematchWorkflow } from '../../workflows/usage-follow-ups';
import {
  limitRequestWorkflowId,
  onboardSubscriberWorkflowId,
  OPERATION_REFUSED,
  policyCancelUpdate,
  policyChangeStatusQuery,
  policyChangeWorkflowId,
  publishPolicyWorkflowId,
  recordLimitRequestWorkflowId,
  subscriberWorkflowId,
  usageAlertsWorkflowId,
  usageImportWorkflowId,
  usageRematchWorkflowId,
} from '../../workflows/messages';
import { cliAgainst } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { givenCalls, givenSubscriber, usageCsv } from '../helpers/fixtures';
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
    pool: db.pool,
    mailer,
    mailFrom: TEST_MAIL_FROM,
    temporal: env.client,
    taskQueue,
    billingOpsEmail: TEST_OPS_EMAIL,
    supportEmail: TEST_SUPPORT_EMAIL,
    closeGraceHours: 6,
  });
  const stopping = async (...args: unknown[]): Promise<never> => {
    await (real[activity] as (...a: unknown[]) => Promise<unknown>)(...args);
    await Context.current().cancelled;
    throw new Error('unreachable');
  };
  const w = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...real, [activity]: stopping },
    maxCachedWorkflows: 0,
    shutdownGraceTime: '100 ms',
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
  const started = events.filter(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)),
  );
  return Math.max(0, ...started.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0));
}

/** Waits for a workflow to close without unlocking time skipping (a policy revision's timers wait). */
async function untilClosed(workflowId: string) {
  const handle = env.client.workflow.getHandle(workflowId);
  await until(
    () => handle.describe(),
    (d) => d.status.name !== 'RUNNING',
  );
  return handle;
}

const count = async (sql: string, params: unknown[]): Promise<number> => (await db.pool.query(sql, params)).rows[0].n as number;

test('onboarding resumes on a new worker after the first stopped right after inserting the subscriber: one subscriber, one entity, one notice, earlier calls attributed once', async () => {
  await startWorkerThatStopsAfter('registerSubscriber');
  // Given a policy revision in flight, and a call of zoe's that arrived before she was registered.
  const today = dayOf(await env.currentTimeMs());
  const eff = addDays(today, 30);
  const published = await publishPolicyRevision(db.pool, env.client, {
    effectiveFrom: eff,
    changes: { includedMinutes: 3000 },
    today,
    publishedBy: 'test',
    taskQueue,
    batchSize: 50,
    retryMaxMinutes: 180,
  });
  const revision = env.client.workflow.getHandle(published.workflowId);
  await until(
    () => revision.query(policyChangeStatusQuery),
    (s) => s.phase === 'scheduled',
  );
  await givenCalls(db.pool, [{ subscriber: 'zoe', start: `${today} 10:00:00`, seconds: 600 }]);

  const workflowId = onboardSubscriberWorkflowId('zoe');
  await env.client.workflow.start(onboardSubscriberWorkflow, {
    workflowId,
    taskQueue,
    args: [{ id: 'zoe', email: 'zoe@example.test', timezone: 'UTC', business: false, monthlyFeeCents: 1500, serviceStart: today, numbers: ['+14155550199'] }],
  });
  // The write is committed (a durable fact), its report never made: the worker goes away.
  await until(
    () => count(`SELECT count(*)::int AS n FROM subscribers WHERE id = 'zoe'`, []),
    (n) => n === 1,
  );
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  expect(await handle.result()).toMatchObject({
    subscriberId: 'zoe',
    entityWorkflowId: 'subscriber-zoe',
    firstPeriod: today.slice(0, 7),
    earlierRecordsAttributed: 1,
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
  const notices = await until(
    () => outboxRows(db.pool, `policy:${published.revision.version}:notice:zoe%`),
    (rows) => rows.some((r) => r.status === 'sent'),
  );
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
    subscriberId: 'acme',
    minutes: 4000,
    reason: 'Call centre season',
    actor: 'test',
    timezone: 'UTC',
    currentLimitMinutes: 2400,
    ceilingMinutes: 20_000,
    reminderHours: 48,
    expiryDays: 14,
  };
  await env.client.workflow.start(recordLimitRequestWorkflow, { workflowId, taskQueue, args: [input] });
  // The request is committed (a durable fact), its report never made: the worker goes away.
  await until(
    () => count(`SELECT count(*)::int AS n FROM limit_requests WHERE subscriber_id = 'acme'`, []),
    (n) => n === 1,
  );
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

/** The first run of a workflow: started once, never continued or started again. */
async function firstRunOf(workflowId: string) {
  const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events!;
  return events[0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId;
}

test('a policy publication resumes on a new worker after the first stopped right after storing the version: one version, one policy-change workflow, each notice once', async () => {
  // The revision the onboarding test left in flight gives way (one revision at a time): ended as
  // policy-changes.test.ts ends a leftover. Not by its `cancel`: the worker that last ran it is gone,
  // and the time-skipping server keeps its next task on that worker's sticky queue.
  const left = await scheduledPolicy(db.pool);
  if (left) {
    await env.client.workflow.getHandle(policyChangeWorkflowId(left.version)).terminate('makes way for the next test');
    await db.pool.query(`UPDATE policies SET state = 'cancelled' WHERE version = $1`, [left.version]);
  }
  await givenSubscriber(db.pool, { id: 'pia' });
  await startWorkerThatStopsAfter('recordPolicyRevision');
  const today = dayOf(await env.currentTimeMs());
  const eff = addDays(today, 45);
  const version = await nextPolicyVersion(db.pool);
  const workflowId = publishPolicyWorkflowId(version);
  await env.client.workflow.start(publishPolicyWorkflow, {
    workflowId,
    taskQueue,
    args: [{ version, effectiveFrom: eff, changes: { overageRateMicros: 45_000 }, today, publishedBy: 'test', batchSize: 2, retryMaxMinutes: 180 }],
  });
  // The version is stored (a durable fact), its report never made: the worker goes away.
  await until(
    () => count('SELECT count(*)::int AS n FROM policies WHERE version = $1', [version]),
    (n) => n === 1,
  );
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  const published = await handle.result();
  expect(published).toMatchObject({
    revision: { version, state: 'scheduled', effectiveFrom: eff, overageRateMicros: 45_000 },
    workflowId: policyChangeWorkflowId(version),
    differences: [{ parameter: 'overageRateMicros', before: '0.05 USD a minute', after: '0.045 USD a minute' }],
    overtaken: [],
  });
  // Checked and stored twice (the second attempt on the new worker), written once.
  expect(await attempts(workflowId, 'recordPolicyRevision')).toBe(2);
  expect(await count('SELECT count(*)::int AS n FROM policies WHERE effective_from = $1', [eff])).toBe(1);
  expect(await count('SELECT count(*)::int AS n FROM operation_writes WHERE key LIKE $1', [`${workflowId}/%`])).toBe(1);
  // One policy-change workflow, in its first run, started once; every subscriber billed gets the notice once.
  expect(await attempts(workflowId, 'startPolicyChange')).toBe(1);
  expect(await firstRunOf(policyChangeWorkflowId(version))).toBeFalsy();
  const change = env.client.workflow.getHandle(policyChangeWorkflowId(version));
  await until(
    () => change.query(policyChangeStatusQuery),
    (st) => st.phase === 'scheduled',
  );
  await untilAtRest(env.client, [change.workflowId]);
  const billed = (await db.pool.query(`SELECT email FROM subscribers WHERE status <> 'terminated' ORDER BY email`)).rows.map((r) => r.email as string);
  expect(
    smtp.received
      .filter((m) => m.subject === `Changes to the RedConnect Fair Usage Policy from ${eff}`)
      .map((m) => m.to[0])
      .sort(),
  ).toEqual(billed.sort());
  recordHistory('publish-policy-resumed', await handle.fetchHistory());

  // A second publication while this one is in flight is refused by its first activity, for good, with nothing written.
  const second = await env.client.workflow.start(publishPolicyWorkflow, {
    workflowId: publishPolicyWorkflowId(version + 1),
    taskQueue,
    args: [{ version: version + 1, effectiveFrom: addDays(eff, 1), changes: { includedMinutes: 2500 }, today, publishedBy: 'test', batchSize: 2, retryMaxMinutes: 180 }],
  });
  const cause = ((await second.result().catch((error: unknown) => error)) as WorkflowFailedError).cause;
  expect(cause).toMatchObject({
    type: OPERATION_REFUSED,
    message: `policy version ${version} is already scheduled for ${eff}: one revision at a time; cancel it first (\`billing policy cancel ${version}\`) or wait until it is active`,
  });
  expect(await count('SELECT count(*)::int AS n FROM policies WHERE version > $1', [version])).toBe(0);
  await change.executeUpdate(policyCancelUpdate, { args: [{ operator: 'test', reason: 'test over' }] });
});

/** Calls of this month (UTC) worth `minutes`, on its first day: in the past whatever day the test runs, and alerted now. */
const thisMonth = (subscriber: string, minutes: number) => [{ subscriber, start: `${periodOf(Date.now(), 'UTC')}-01 00:00:00`, seconds: minutes * 60 }];

test("an import's follow-up resumes on a new worker after the first stopped right after queueing the alerts: each alert queued and mailed once", async () => {
  await givenSubscriber(db.pool, { id: 'ivy', serviceStart: `${periodOf(Date.now(), 'UTC')}-01` });
  // 2,000 of 2,400 minutes: 83 %, the 80 % alert is due.
  const { importId } = await givenCalls(db.pool, thisMonth('ivy', 2000));
  await startWorkerThatStopsAfter('queueImportAlerts');
  const workflowId = usageImportWorkflowId(importId);
  await env.client.workflow.start(usageImportFollowUpWorkflow, { workflowId, taskQueue, args: [{ importId }] });
  // The alert is queued (a durable fact), the report never made: the worker goes away.
  await until(
    () => outboxRows(db.pool, 'usage-alert:ivy:%'),
    (rows) => rows.length === 1,
  );
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  expect(await handle.result()).toEqual({ alertEmails: 1, alertsWorkflowId: usageAlertsWorkflowId(`import-${importId}`) });
  expect(await attempts(workflowId, 'queueImportAlerts')).toBe(2);
  expect(await attempts(workflowId, 'handOverUsageAlerts')).toBe(1);
  await untilOutboxSent(db.pool, 'usage-alert:ivy:%', 1);
  await untilAtRest(env.client, [usageAlertsWorkflowId(`import-${importId}`)]);
  expect(smtp.received.filter((m) => m.to.includes('ivy@example.test')).map((m) => m.subject)).toEqual([
    `You have used 80 % of your RedConnect allowance for ${periodOf(Date.now(), 'UTC')}`,
  ]);
  recordHistory('usage-import-resumed', await handle.fetchHistory());

  // An import that does not exist is refused for good.
  const missing = await env.client.workflow.start(usageImportFollowUpWorkflow, { workflowId: usageImportWorkflowId(999_999), taskQueue, args: [{ importId: 999_999 }] });
  expect(((await missing.result().catch((error: unknown) => error)) as WorkflowFailedError).cause).toMatchObject({
    type: OPERATION_REFUSED,
    message: expect.stringContaining('import 999999 does not exist'),
  });
});

test('a rematch resumes on a new worker after the first stopped right after attributing: each record attributed once, its alert mailed once', async () => {
  const period = periodOf(Date.now(), 'UTC');
  // A call from a number nobody had; then its owner is registered (without onboarding, which would attribute it itself).
  await givenCalls(db.pool, thisMonth('rex', 2000));
  expect(await count(`SELECT count(*)::int AS n FROM cdr_records WHERE named_subscriber_id = 'rex' AND caller_subscriber_id IS NULL`, [])).toBe(1);
  await givenSubscriber(db.pool, { id: 'rex', serviceStart: `${period}-01` });
  await startWorkerThatStopsAfter('rematchAndQueueAlerts');
  const workflowId = usageRematchWorkflowId(Date.now());
  await env.client.workflow.start(usageRematchWorkflow, { workflowId, taskQueue, args: [] });
  // Attributed and its alert queued (durable facts), the report never made: the worker goes away.
  await until(
    () => outboxRows(db.pool, 'usage-alert:rex:%'),
    (rows) => rows.length === 1,
  );
  await replaceWorker();

  const handle = await untilClosed(workflowId);
  // The retry found nothing left to attribute, and still counts and alerts what the first attempt did.
  expect(await handle.result()).toMatchObject({ attributed: 1, stillUnmatched: 0, alertEmails: 1, alertsWorkflowId: usageAlertsWorkflowId(workflowId.replace(/^usage-/, '')) });
  expect(await attempts(workflowId, 'rematchAndQueueAlerts')).toBe(2);
  expect(await count(`SELECT count(*)::int AS n FROM calls WHERE subscriber_id = 'rex'`, [])).toBe(1);
  await untilOutboxSent(db.pool, 'usage-alert:rex:%', 1);
  await untilAtRest(env.client, [usageAlertsWorkflowId(workflowId.replace(/^usage-/, ''))]);
  expect(smtp.received.filter((m) => m.to.includes('rex@example.test'))).toHaveLength(1);
  recordHistory('usage-rematch-resumed', await handle.fetchHistory());
});

test('`billing usage import` and `billing usage rematch` print their summaries with the alerts handed over', async () => {
  const period = periodOf(Date.now(), 'UTC');
  const billing = cliAgainst(() => ({ env, databaseUrl: db.url, taskQueue }));
  await givenSubscriber(db.pool, { id: 'uma', serviceStart: `${period}-01` });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-operations-'));
  const file = path.join(dir, 'usage.csv');
  fs.writeFileSync(file, usageCsv([...thisMonth('uma', 2500), ...thisMonth('vic', 10)]));
  const imported = await billing('usage', 'import', file);
  expect(imported).toMatchObject({ code: 0, stderr: '' });
  const importId = Number(/usage-alerts-import-(\d+)/.exec(imported.stdout)?.[1]);
  expect(imported.stdout).toContain(`  unmatched:   1 (most: vic ×1)\n`);
  expect(imported.stdout).toContain(`  1 usage alert email handed to usage-alerts-import-${importId}\n`);
  expect((await env.client.workflow.getHandle(usageImportWorkflowId(importId)).describe()).status.name).toBe('COMPLETED');
  // Handing the same import's alerts over again sends nothing twice: they are sent or on their way.
  await untilOutboxSent(db.pool, 'usage-alert:uma:%', 1);
  const again = await billing('usage', 'alerts', String(importId));
  expect(again).toMatchObject({ code: 0, stdout: `import ${importId}: no usage alerts due\n` });
  expect(smtp.received.filter((m) => m.to.includes('uma@example.test'))).toHaveLength(1);

  await givenSubscriber(db.pool, { id: 'vic', serviceStart: `${period}-01` });
  const rematched = await billing('usage', 'rematch');
  expect(rematched.code).toBe(0);
  expect(rematched.stdout).toBe('rematch: 1 unmatched record(s) attributed; 0 still match nobody\n  no usage alerts due\n');
  fs.rmSync(dir, { recursive: true, force: true });
});
