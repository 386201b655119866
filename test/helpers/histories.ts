/**
 * Recorded workflow histories (test/histories/*.json), replayed by test/workflow/replay.test.ts
 * so that a change to workflow code that would break running workflows fails the suite.
 * Recorded with BILLING_RECORD_HISTORIES=1 (see the README); exported with historyToJSON.
 */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import fs from 'node:fs';
import path from 'node:path';

export const HISTORIES_DIR = path.resolve(__dirname, '../histories');

type History = temporal.api.history.v1.IHistory;

/** Every run of a workflow id, following continue-as-new from its first run. */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<{ runId: string; history: History }[]> {
  const chain: { runId: string; history: History }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    chain.push({ runId, history });
    const last: temporal.api.history.v1.IHistoryEvent | undefined = history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}

export function recordHistory(name: string, history: History): void {
  if (!process.env.BILLING_RECORD_HISTORIES) return;
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history as never));
}
