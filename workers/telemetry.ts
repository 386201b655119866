/**
 * What the worker tells the people who run it (README, "Metrics, traces and logs"):
 *
 * - the SDK's Runtime, installed once before any connection: its log lines (the SDK's own, the
 *   workflows' and activities' `log`, the core's) go through one logger, JSON when stderr is not
 *   a terminal; its Prometheus exporter serves the SDK's metrics on a private port of 127.0.0.1;
 * - one HTTP endpoint (BILLING_METRICS_PORT): `/metrics` is the SDK's metrics followed by the
 *   billing ones (telemetry/metrics.ts) and the counts read from PostgreSQL at the scrape;
 *   `/healthz` (alive) and `/readyz` (the worker running and PostgreSQL answering);
 * - OpenTelemetry tracing through @temporalio/interceptors-opentelemetry, exported by OTLP when
 *   OTEL_EXPORTER_OTLP_ENDPOINT is set: the client's calls, each workflow's execution, signals and
 *   scheduled activities, each activity's execution.
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, Runtime, type LogEntry, type WorkerOptions } from '@temporalio/worker';
import http from 'node:http';
import net from 'node:net';
import type { Pool } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config';
import { operationalCounts } from '../db/telemetry';
import { billingRegistry, collectProcessMetrics } from '../telemetry/metrics';

// ---------------------------------------------------------------------------------------------
// Logs

export type LogFormat = 'json' | 'text';

/** JSON when the log stream is not a terminal (a container, a file, a pipe), readable on one. */
export function logFormatFor(setting: 'auto' | LogFormat, stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return setting === 'auto' ? (stream.isTTY ? 'text' : 'json') : setting;
}

/** `subscriber-<id>` is a subscriber's cycle: its logs name the subscriber even when the line does not. */
const SUBSCRIBER_WORKFLOW = /^subscriber-(.+)$/;

/**
 * One log line as JSON: time, level, message, then what identifies the run (workflow id, run id,
 * subscriber, period, when known), then the rest of the line's attributes.
 */
export function jsonLogLine(entry: LogEntry): string {
  // An activity's task token is an opaque key as long as the line: nobody reads it in a log.
  const { taskToken: _token, ...meta }: Record<string, unknown> = { ...(entry.meta ?? {}) };
  const take = (...keys: string[]): unknown => {
    let found: unknown;
    for (const key of keys) {
      if (meta[key] !== undefined && found === undefined) found = meta[key];
      delete meta[key];
    }
    return found;
  };
  const workflowId = take('workflowId');
  const runId = take('runId', 'workflowRunId');
  const subscriber = take('subscriberId', 'subscriber') ?? (typeof workflowId === 'string' ? SUBSCRIBER_WORKFLOW.exec(workflowId)?.[1] : undefined);
  const period = take('period');
  const line = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    message: entry.message,
    ...(workflowId !== undefined && { workflowId }),
    ...(runId !== undefined && { runId }),
    ...(subscriber !== undefined && { subscriber }),
    ...(period !== undefined && { period }),
    ...meta,
  };
  return JSON.stringify(line, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return value.message;
    return value;
  });
}

/** The Runtime's logger: every SDK, workflow, activity and core line, to stderr, in `format`. */
export function billingLogger(format: LogFormat, level: LogLevel = 'INFO', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  if (format === 'text') return new DefaultLogger(level, (entry) => write(textLogLine(entry)));
  return new DefaultLogger(level, (entry) => write(`${jsonLogLine(entry)}\n`));
}

/** What a person at a terminal does not need on every line: the JSON lines keep all but the task token. */
const NOT_ON_A_TERMINAL = new Set([
  'sdkComponent',
  'taskQueue',
  'namespace',
  'taskToken',
  'trace_id',
  'span_id',
  'trace_flags',
  'isLocal',
  'activityId',
  'runId',
  'workflowRunId',
  'workflowType',
  'workflowNamespace',
]);

/** `10:59:13.379 WARN  message [workflow id, activity, attempt] {the line's own attributes}`. */
function textLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString().slice(11, 23);
  const { workflowId, activityType, attempt, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
  const where = [workflowId, activityType, attempt !== undefined && Number(attempt) > 1 ? `attempt ${String(attempt)}` : undefined].filter(Boolean);
  const shown = Object.fromEntries(Object.entries(meta).filter(([key]) => !NOT_ON_A_TERMINAL.has(key)));
  const rest = Object.keys(shown).length ? ` ${JSON.stringify(shown, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v))}` : '';
  return `${time} ${entry.level.padEnd(5)} ${entry.message}${where.length ? ` [${where.join(', ')}]` : ''}${rest}\n`;
}

/** Warnings and errors only: the bundler's statistics (webpack's table of modules) stay out of the output. */
export function warningsOnly(logger: Logger): Logger {
  const quiet = (): void => undefined;
  return {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => {
      if (level === 'WARN' || level === 'ERROR') logger.log(level, message, meta);
    },
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: (message, meta) => logger.warn(message, meta),
    error: (message, meta) => logger.error(message, meta),
  };
}

// ---------------------------------------------------------------------------------------------
// The Runtime

export interface InstalledRuntime {
  logger: Logger;
  /** Where the SDK's Prometheus exporter answers (127.0.0.1, a free port), when metrics are on. */
  sdkMetricsUrl?: string;
}

/**
 * Installs the SDK's Runtime: once per process, before any connection to Temporal. With metrics on,
 * the core's exporter listens on a free port of 127.0.0.1, read by the billing endpoint.
 */
export async function installRuntime(options: { metrics: boolean; logFormat: LogFormat; logLevel?: LogLevel }): Promise<InstalledRuntime> {
  const logger = billingLogger(options.logFormat, options.logLevel);
  const sdkPort = options.metrics ? await freeLocalPort() : undefined;
  Runtime.install({
    logger,
    telemetryOptions: {
      // The core's own lines through the same logger (so JSON too), from warnings up.
      logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
      ...(sdkPort !== undefined && { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, useSecondsForDurations: true } } }),
    },
  });
  return { logger, ...(sdkPort !== undefined && { sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics` }) };
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The endpoint: /metrics, /healthz, /readyz

export interface TelemetryServerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  pool: Pool;
  /** The SDK's exporter (installRuntime), whose text leads /metrics. */
  sdkMetricsUrl?: string;
  /** The worker's state as Worker.getState() tells it; undefined before the worker exists. */
  workerState: () => string | undefined;
}

export interface TelemetryServer {
  url: string;
  close(): Promise<void>;
}

/** How long a scrape or a readiness check waits for PostgreSQL or the SDK's exporter. */
const PROBE_TIMEOUT_MS = 2_000;

/** The counts read from PostgreSQL at each scrape, in a registry of their own. */
function databaseMetrics(pool: Pool): { registry: Registry; refresh(): Promise<void> } {
  const registry = new Registry();
  const up = new Gauge({ name: 'billing_database_up', help: "Whether PostgreSQL answered the scrape's query (1) or not (0)", registers: [registry] });
  const pending = new Gauge({ name: 'billing_limit_requests_pending', help: "Limit-increase requests waiting for support's decision", registers: [registry] });
  const abuse = new Gauge({
    name: 'billing_abuse_cases',
    help: 'Abuse cases waiting for a decision (open) or with the account suspended',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  // Totals of every finished import (usage_imports), the same on every replica: sum them with max, not sum.
  const rows = new Counter({
    name: 'billing_import_rows_total',
    help: 'Rows of the finished usage imports by outcome: read (every line), counted, not_counted, rejected; duplicate, unmatched and late are among the read',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const imports = new Counter({ name: 'billing_imports_finished_total', help: 'Usage imports that finished', registers: [registry] });
  return {
    registry,
    async refresh() {
      try {
        const counts = await withTimeout(operationalCounts(pool), PROBE_TIMEOUT_MS, 'PostgreSQL did not answer');
        up.set(1);
        pending.set(counts.pendingLimitRequests);
        abuse.set({ state: 'open' }, counts.abuseCases.open);
        abuse.set({ state: 'suspended' }, counts.abuseCases.suspended);
        const r = counts.importRows;
        rows.reset();
        for (const [outcome, value] of [
          ['read', r.read],
          ['counted', r.counted],
          ['not_counted', r.notCounted],
          ['rejected', r.rejected],
          ['duplicate', r.duplicate],
          ['unmatched', r.unmatched],
          ['late', r.late],
        ] as const)
          rows.inc({ outcome }, value);
        imports.reset();
        imports.inc(counts.importsFinished);
      } catch {
        up.set(0);
      }
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function sdkMetricsText(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const text = await response.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    return '';
  }
}

/** Starts the endpoint; a port already taken fails with a line naming it and the variable. */
export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  collectProcessMetrics();
  const database = databaseMetrics(options.pool);
  const server = http.createServer((request, response) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': type }).end(body);
    };
    const route = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') return reply(405, 'GET only\n');
    if (route === '/healthz') {
      // Alive unless the worker has failed for good (a restart is what mends that).
      const state = options.workerState();
      return state === 'FAILED' ? reply(503, 'worker failed\n') : reply(200, 'ok\n');
    }
    if (route === '/readyz') {
      void readiness(options).then(({ ready, reason }) => reply(ready ? 200 : 503, `${reason}\n`));
      return;
    }
    if (route === '/metrics') {
      void (async () => {
        const [sdk] = await Promise.all([sdkMetricsText(options.sdkMetricsUrl), database.refresh()]);
        const billing = await billingRegistry.metrics();
        const counts = await database.registry.metrics();
        reply(200, `${sdk}${billing}${counts}`, billingRegistry.contentType);
      })().catch((error: unknown) => reply(500, `${(error as Error).message}\n`));
      return;
    }
    reply(404, 'not found: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`the metrics port ${options.host}:${options.port} is taken; set BILLING_METRICS_PORT to a free port, or leave it unset to serve no metrics`)
          : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readiness(options: TelemetryServerOptions): Promise<{ ready: boolean; reason: string }> {
  const state = options.workerState();
  if (state !== 'RUNNING') return { ready: false, reason: `worker ${state === undefined ? 'not started' : state.toLowerCase()}` };
  try {
    await withTimeout(options.pool.query('SELECT 1'), PROBE_TIMEOUT_MS, `no answer within ${PROBE_TIMEOUT_MS} ms`);
  } catch (error) {
    return { ready: false, reason: `PostgreSQL unreachable: ${(error as Error).message}` };
  }
  return { ready: true, reason: 'ready' };
}

// ---------------------------------------------------------------------------------------------
// Traces

/** The workflow side of tracing, bundled into the workflow code (workers/worker.ts bundleWorkflows). */
export const TRACING_WORKFLOW_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export interface Tracing {
  tracer: otel.Tracer;
  processor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

let contextInstalled = false;

/**
 * Tracing through `processor`: spans of this process (client calls, activities) and of the
 * workflows (through the worker's sink). The context manager and the W3C propagator are
 * installed globally once, so a client call made inside an activity (the close's fan-out) is a
 * child of that activity's span and carries its context to the workflow it signals.
 */
export function startTracing(processor: SpanProcessor, serviceName = 'billing-worker'): Tracing {
  if (!contextInstalled) {
    contextInstalled = true;
    otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(processor);
  return { tracer: provider.getTracer('redconnect-billing'), processor, resource, shutdown: () => provider.shutdown() };
}

/** Tracing exported by OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, or none when it is unset. */
export function tracingFromConfig(config: Pick<Config, 'otlpEndpoint' | 'otelServiceName'>): Tracing | undefined {
  if (!config.otlpEndpoint) return undefined;
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) itself and posts to <endpoint>/v1/traces.
  return startTracing(new BatchSpanProcessor(new OTLPTraceExporter()), config.otelServiceName);
}

/** The worker's side: activity spans, and the sink through which workflow spans are exported. */
export function workerTracingOptions(tracing: Tracing): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) },
  };
}

/** A client's side: starts, signals, queries and updates as spans whose context the workflow continues. */
export function clientTracingInterceptors(tracing: Tracing): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] };
}
