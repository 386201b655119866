/**
 * Replays the recorded histories under test/histories against today's workflow code: a change
 * that would break workflows already running (non-determinism) fails here. Change workflow code
 * with patched() or re-record (BILLING_RECORD_HISTORIES=1 npm test) only when no old run is live.
 */
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORIES_DIR } from '../helpers/histories';
import { workflowBundle } from '../helpers/temporal';

const files = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

test('there are recorded histories of every workflow type', () => {
  expect(files).toEqual(expect.arrayContaining([
    'month-close-interrupted.json', 'month-close-rerun.json', 'month-close-pages-interrupted.json', 'month-close-pages-rerun.json',
    'subscriber-cycle-with-grace-wait.json', 'subscriber-cycle-without-usage.json',
    'subscriber-cycle-one-read-with-grace-wait.json', 'subscriber-cycle-one-read-without-usage.json',
    'abuse-case-suspended-resumed.json', 'abuse-case-terminated.json', 'subscriber-cycle-terminated.json',
    'policy-change-activated.json',
    'month-close-waiting-continued.json', 'month-close-waiting-completed.json', 'scheduled-close-attached.json', 'subscriber-cycle-grace-from-worker.json',
  ]));
});

test.each(files)('%s replays without non-determinism', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, path.basename(file, '.json'));
});
