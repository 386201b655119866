/**
 * Tracing turned on over running workflows: every recorded history (recorded without tracing)
 * replays on a worker whose bundle carries the OpenTelemetry workflow interceptors, so a worker
 * with OTEL_EXPORTER_OTLP_ENDPOINT set can take over any run. (A replay exports no spans: the
 * SDK does not call the exporter's sink while replaying.)
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
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
let bundle: Promise<WorkflowBundleWithSourceMap>;

beforeAll(() => {
  tracing = startTracing(new SimpleSpanProcessor(spans), 'billing-replay-test');
  bundle = bundleWorkflows(new DefaultLogger('WARN'), { tracing: true });
});

afterAll(() => tracing.shutdown());

test.each(files)('%s replays with tracing on', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await bundle, ...workerTracingOptions(tracing) }, history, path.basename(file, '.json'));
});
