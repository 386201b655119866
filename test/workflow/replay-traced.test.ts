/**
 * Tracing turned on over running workflows: every recorded history (recorded without tracing)
 * replays on a worker whose bundle carries the OpenTelemetry workflow interceptors, so a worker
 * with OTEL_EXPORTER_OTLP_ENDPOINT set can take over any run. (A replay exports no spans: the
 * SDK does not call the exporter's sink while replaying.)
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DefaultLogger, Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { startTracing, workerTracingOptions, type Tracing } from '../../workers/telemetry';
import { bundleWorkflows } from '../../workers/worker';
import { HISTORIES_DIR } from '../helpers/histories';

const files = fs
  .readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const spans = new InMemorySpanExporter();
let tracing: Tracing;
/** Each history's replay error (undefined: it replayed), all on one replay worker: one sandbox, not one a history. */
const outcomes = new Map<string, Error | undefined>();

beforeAll(async () => {
  tracing = startTracing(new SimpleSpanProcessor(spans), 'billing-replay-test');
  const workflowBundle = await bundleWorkflows(new DefaultLogger('WARN'), { tracing: true });
  const histories = files.map((file) => ({ workflowId: path.basename(file, '.json'), history: JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle, ...workerTracingOptions(tracing) }, histories)) outcomes.set(result.workflowId, result.error);
});

afterAll(() => tracing.shutdown());

test.each(files)('%s replays with tracing on', (file) => {
  const id = path.basename(file, '.json');
  expect(outcomes.has(id)).toBe(true);
  expect(outcomes.get(id)).toBeUndefined();
});
