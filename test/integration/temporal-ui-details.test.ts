/**
 * What the Temporal UI reads, read as it reads it (describe, list, the current-details query) on
 * the dev server, whose visibility answers search-attribute queries: every run of a subscriber's
 * cycle shows the same summary, a month's run that continued as new ends `invoiced` with its
 * overage, amounts carry their currency; and every saved-view query of the README lists the runs
 * it names and none other. Real dev server, worker, PostgreSQL and SMTP server.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import type { AbuseCaseState } from '../../billing/abuse';
import { cycleSummary } from '../../billing/cycle-details';
import { periodOf } from '../../billing/periods';
import { createLimitRequest } from '../../db/limit-requests';
import { insertStaff } from '../../db/staff';
import { limitRequestWorkflow } from '../../workflows/limit-request';
import {
  BillingPeriodKey,
  CaseStateKey,
  CycleStateKey,
  OverageMinutesKey,
  PolicyStateKey,
  SUMMARY_MEMO,
  SubscriberIdKey,
  closeCycleSignal,
  limitRequestWorkflowId,
  rejectUpdate,
  subscriberWorkflowId,
  type PolicyChangePhase,
} from '../../workflows/messages';
import { subscriberWorkflow } from '../../workflows/subscriber';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { callsTotalling, givenCalls, givenSubscriber } from '../helpers/fixtures';
import { recordHistory, runChain } from '../helpers/histories';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { billingWorker, startDevServer } from '../helpers/temporal';
import { until } from '../helpers/wait';

const taskQueue = 'ui-details-test';
/** A task queue no worker polls: runs parked there keep the search attributes they were started with. */
const PARKED = 'ui-details-parked';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
/** The run of ada's first month, invoiced with overage by the first test (the saved views read it). */
let adaFirstRunId: string;

beforeAll(async () => {
  [env, db, smtp] = await Promise.all([startDevServer(), createTestDatabase(), startSmtpServer()]);
  worker = await billingWorker(env, { pool: db.pool, smtpUrl: smtp.url, taskQueue, shutdownGraceTime: '100 ms' });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), smtp?.close()]);
});

/** The months before the month in progress (UTC): `monthsBack(1)` is last month. */
function monthsBack(n: number): string {
  const now = new Date();
  return periodOf(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - n, 15), 'UTC');
}

/** The current details of a run, as the UI asks the worker for them (closed runs are replayed to answer). */
async function currentDetails(workflowId: string, runId: string): Promise<string> {
  const metadata = await env.client.workflow.getHandle(workflowId, runId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** The runs a visibility query lists, as `workflowId` or `workflowId@runId` with `byRun`. */
async function listed(query: string, byRun = false): Promise<string[]> {
  const found: string[] = [];
  for await (const run of env.client.workflow.list({ query })) found.push(byRun ? `${run.workflowId}@${run.runId}` : run.workflowId);
  return found.sort();
}

/** The README's saved views (section "Saved views in the Temporal UI"): name → query. */
function readmeSavedViews(): Map<string, string> {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Saved views in the Temporal UI'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| View | Query |')));
  const views = new Map<string, string>();
  for (const row of table.matchAll(/^\| ([^|]+?) \| `([^`]+)` \|$/gm)) views.set(row[1]!, row[2]!);
  return views;
}

test('every run of a cycle shows its summary; a month that continued as new ends invoiced, its amounts with their currency', async () => {
  const [first, second, current] = [monthsBack(2), monthsBack(1), monthsBack(0)];
  // Given a subscriber paying 10.00 USD a month since two months ago, 2,460 min in the first month
  // (60 over the 2,400 included) and none in the second,
  await givenSubscriber(db.pool, { id: 'ada', monthlyFeeCents: 1000, serviceStart: `${first}-01` });
  await givenCalls(db.pool, callsTotalling('ada', `${first}-02`, 2460 * 60));
  // whose cycle is started as `billing subscribers add` starts it, with its static summary,
  const handle = await env.client.workflow.start(subscriberWorkflow, {
    workflowId: subscriberWorkflowId('ada'),
    taskQueue,
    args: [{ subscriberId: 'ada', period: first }],
    staticSummary: cycleSummary('ada'),
  });
  // when both past months are closed (no grace: they are long over),
  await handle.signal(closeCycleSignal, { period: second, graceHours: 0 });
  await until(
    () => env.client.workflow.getHandle(subscriberWorkflowId('ada')).describe(),
    (d) => d.typedSearchAttributes.get(BillingPeriodKey) === current,
  );

  // then there is one run a month, the two closed ones continued as new, the current one running,
  const chain = await runChain(env.client, subscriberWorkflowId('ada'), handle.firstExecutionRunId);
  adaFirstRunId = handle.firstExecutionRunId;
  expect(chain).toHaveLength(3);
  const runs = await Promise.all(chain.map(({ runId }) => env.client.workflow.getHandle(subscriberWorkflowId('ada'), runId).describe()));
  expect(runs.map((r) => r.status.name)).toEqual(['CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'RUNNING']);
  // every one with the same summary: the static one of the started run, the memo of every run,
  expect(await runs[0]!.staticSummary()).toBe('Billing cycle of subscriber ada');
  for (const run of runs) expect(run.memo?.[SUMMARY_MEMO]).toBe('Billing cycle of subscriber ada');
  // and the first line of every run's current details;
  const details = await Promise.all(chain.map(({ runId }) => currentDetails(subscriberWorkflowId('ada'), runId)));
  for (const text of details) expect(text.split('\n\n')[0]).toBe('Billing cycle of subscriber ada');

  // each closed month ends invoiced, in its search attributes and its details, with its overage
  // and its invoice's amount in its currency;
  const attributes = runs.map((r) => [
    r.typedSearchAttributes.get(SubscriberIdKey),
    r.typedSearchAttributes.get(BillingPeriodKey),
    r.typedSearchAttributes.get(CycleStateKey),
    r.typedSearchAttributes.get(OverageMinutesKey),
  ]);
  expect(attributes).toEqual([
    ['ada', first, 'invoiced', 60],
    ['ada', second, 'invoiced', 0],
    ['ada', current, 'open', 0],
  ]);
  expect(details[0]).toContain(`**ada**, ${first}: invoiced. Invoice INV-${first}-ada: 13.00 USD, 60 min overage (policy v1).`);
  expect(details[1]).toContain(`**ada**, ${second}: invoiced. Invoice INV-${second}-ada: 10.00 USD, 0 min overage (policy v1).`);
  // the month in progress names the last invoice with its currency too.
  expect(details[2]).toContain(`**ada**, ${current}: open. Last invoice INV-${second}-ada: 10.00 USD, overage 0 min.`);

  // The UI's list reads the same (each run a row).
  const rows: WorkflowExecutionInfo[] = [];
  for await (const row of env.client.workflow.list({ query: `WorkflowId = "${subscriberWorkflowId('ada')}"` })) rows.push(row);
  expect(rows.map((r) => [r.typedSearchAttributes.get(BillingPeriodKey), r.typedSearchAttributes.get(CycleStateKey), r.memo?.[SUMMARY_MEMO]]).sort()).toEqual([
    [first, 'invoiced', 'Billing cycle of subscriber ada'],
    [second, 'invoiced', 'Billing cycle of subscriber ada'],
    [current, 'open', 'Billing cycle of subscriber ada'],
  ]);

  // Histories of today's code: a started run that records its summary in its memo and ends
  // invoiced, and a continued run that is given it.
  recordHistory('subscriber-cycle-invoiced-started', chain[0]!.history);
  recordHistory('subscriber-cycle-invoiced-continued', chain[1]!.history);
});

test("the README's saved views list the runs they name and none other", async () => {
  const views = readmeSavedViews();
  expect([...views.keys()]).toEqual(['Pending limit requests', 'Open abuse cases', 'Held policy revisions', 'Over the allowance in a month']);

  // Limit requests: one pending, one rejected by support (real runs; both stay open until they expire).
  await insertStaff(db.pool, { id: 'sam', email: 'sam@support.test' });
  const requests: string[] = [];
  for (const id of ['lena', 'remy']) {
    await givenSubscriber(db.pool, { id, serviceStart: `${monthsBack(0)}-01` });
    const request = await createLimitRequest(db.pool, { subscriberId: id, minutes: 4000, reason: 'Call centre season', actor: 'test' });
    await env.client.workflow.start(limitRequestWorkflow, {
      workflowId: limitRequestWorkflowId(request.id),
      taskQueue,
      args: [
        { requestId: request.id, subscriberId: id, requestedMinutes: 4000, timezone: 'UTC', currentLimitMinutes: 2400, ceilingMinutes: 20_000, reminderHours: 48, expiryDays: 14 },
      ],
    });
    requests.push(limitRequestWorkflowId(request.id));
  }
  const [pending, rejected] = requests as [string, string];
  await env.client.workflow.getHandle(rejected).executeUpdate(rejectUpdate, { args: [{ reviewer: 'sam', reason: 'Not this season' }] });

  // Abuse cases and policy revisions, in each state the views tell apart: parked runs of those
  // workflow types carrying the search attributes their workflows set (the states are the core's types).
  const parked = async (workflowType: string, workflowId: string, pair: { key: typeof CaseStateKey | typeof PolicyStateKey; value: string }): Promise<void> => {
    await env.client.workflow.start(workflowType, { workflowId, taskQueue: PARKED, args: [], typedSearchAttributes: [pair] });
  };
  const caseStates: AbuseCaseState[] = ['open', 'suspended', 'dismissed'];
  for (const state of caseStates) await parked('abuseCaseWorkflow', `abuse-case-${state}`, { key: CaseStateKey, value: state });
  const policyStates: PolicyChangePhase[] = ['held', 'scheduled', 'active'];
  for (const [i, state] of policyStates.entries()) await parked('policyChangeWorkflow', `policy-change-${i + 10}`, { key: PolicyStateKey, value: state });
  // and a run of another type in the state a view names: never listed.
  await parked('limitRequestWorkflow', 'policy-change-held-lookalike', { key: PolicyStateKey, value: 'held' });

  // Subscribers over the allowance: ada's first month (the test above) ran 60 min over; carl was
  // within it that month, and dan ran 100 min over in the month after (another month's view).
  const month = monthsBack(2);
  const cycles = [];
  for (const [id, period, minutes] of [
    ['carl', month, 2000],
    ['dan', monthsBack(1), 2500],
  ] as const) {
    await givenSubscriber(db.pool, { id, monthlyFeeCents: 1000, serviceStart: `${period}-01` });
    await givenCalls(db.pool, callsTotalling(id, `${period}-02`, minutes * 60));
    const cycle = await env.client.workflow.start(subscriberWorkflow, { workflowId: subscriberWorkflowId(id), taskQueue, args: [{ subscriberId: id, period }] });
    await cycle.signal(closeCycleSignal, { period, graceHours: 0 });
    cycles.push({ cycle, period });
  }
  // Both months are invoiced before the views are read.
  for (const { cycle, period } of cycles) {
    await until(
      () => cycle.describe(),
      (d) => d.typedSearchAttributes.get(BillingPeriodKey) !== period,
    );
  }
  const overQuery = views.get('Over the allowance in a month')!.replace(/BillingPeriod = "\d{4}-\d{2}"/, `BillingPeriod = "${month}"`);
  expect(overQuery).toContain(`BillingPeriod = "${month}"`);
  const expected = new Map<string, { query: string; runs: string[]; byRun?: boolean }>([
    ['Pending limit requests', { query: views.get('Pending limit requests')!, runs: [pending] }],
    ['Open abuse cases', { query: views.get('Open abuse cases')!, runs: ['abuse-case-open'] }],
    ['Held policy revisions', { query: views.get('Held policy revisions')!, runs: ['policy-change-10'] }],
    ['Over the allowance in a month', { query: overQuery, runs: [`${subscriberWorkflowId('ada')}@${adaFirstRunId}`], byRun: true }],
  ]);
  for (const [name, { query, runs, byRun }] of expected) {
    const found = await until(
      () => listed(query, byRun),
      // Visibility may lag a moment behind the last upsert.
      (ids) => ids.join() === [...runs].sort().join(),
    ).catch((error: Error) => ({ error: `${name}: ${error.message}` }));
    expect({ name, found }).toEqual({ name, found: runs });
    expect((await env.client.workflow.count(query)).count).toBe(runs.length);
  }
});
