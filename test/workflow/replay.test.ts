/**
 * Replays the recorded histories under test/histories against today's workflow code: a change
 * that would break workflows already running (non-determinism) fails here. Change workflow code
 * with patched() or re-record (BILLING_RECORD_HISTORIES=1 npm test) only when no old run is live.
 * Every workflow type the worker registers has at least one recorded history.
 */
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import * as workflows from '../../workflows';
import { HISTORIES_DIR } from '../helpers/histories';
import { workflowBundle } from '../helpers/temporal';

const files = fs
  .readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The workflow type a recorded history is of, from its WorkflowExecutionStarted event. */
function workflowTypeOf(file: string): string | undefined {
  const history = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as {
    events?: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
  };
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}

test('there are recorded histories of every workflow type', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'month-close-interrupted.json',
      'month-close-rerun.json',
      'month-close-pages-interrupted.json',
      'month-close-pages-rerun.json',
      'subscriber-cycle-with-grace-wait.json',
      'subscriber-cycle-without-usage.json',
      'subscriber-cycle-one-read-with-grace-wait.json',
      'subscriber-cycle-one-read-without-usage.json',
      'abuse-case-suspended-resumed.json',
      'abuse-case-terminated.json',
      'subscriber-cycle-terminated.json',
      'policy-change-activated.json',
      'subscriber-cycle-plan-removed.json',
      'subscriber-cycle-plan-stepped-down.json',
      'limit-request-approved.json',
      'abuse-scan-one-case.json',
      'email-delivery-usage-alerts.json',
      'scheduled-month-close-backfilled.json',
      'subscriber-cycle-marked-calls.json',
      'subscriber-cycle-marked-calls-late-adjustment.json',
      'subscriber-cycle-marked-calls-terminated-in-grace.json',
      'subscriber-cycle-marked-calls-final-adjustments.json',
      'subscriber-cycle-marked-calls-close-failed.json',
      'limit-request-approved-in-grace.json',
      'month-close-waiting-continued.json',
      'month-close-waiting-completed.json',
      'scheduled-close-attached.json',
      'subscriber-cycle-grace-from-worker.json',
      // Patch cycle-ends-invoiced: a started run records its summary in its memo and ends invoiced;
      // a continued run is given it (test/integration/temporal-ui-details.test.ts).
      'subscriber-cycle-invoiced-started.json',
      'subscriber-cycle-invoiced-continued.json',
      // Decided by Update (accepted, refused by the validator, refused by the workflow) rather than by signal.
      'limit-request-approved-by-update.json',
      'abuse-case-decided-by-update.json',
      'policy-change-cancelled-by-update.json',
      // Operations run as workflows, resumed on a new worker after the first stopped half way.
      'onboard-subscriber-resumed.json',
      'record-limit-request-resumed.json',
      'publish-policy-resumed.json',
      'usage-import-resumed.json',
      'usage-rematch-resumed.json',
      // The alerts of an import measured at the workflow's time (the time-travel demo's simulated one).
      'usage-import-alerts-at-workflow-time.json',
      // A source's collector: back after its switch was unreachable (ops alerted), and a spool run.
      'usage-collector-switch-back.json',
      'usage-collector-switch-down-alerted.json',
      'usage-collector-spool.json',
    ]),
  );
});

test('every workflow type in workflows/index.ts has a recorded history', () => {
  const recorded = new Set(files.map(workflowTypeOf));
  const registered = Object.keys(workflows).sort();
  expect(registered.length).toBeGreaterThan(0);
  // Record one (recordHistory in the test that runs it, BILLING_RECORD_HISTORIES=1) for any named here.
  expect(registered.filter((type) => !recorded.has(type))).toEqual([]);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, path.basename(file, '.json'));
});
