/**
 * The one-shot jobs of docker-compose.yml, run as the compose file runs them (`sh`, the service's
 * environment):
 * - temporal-setup (deploy/temporal/create-namespace-and-search-attributes.sh) with the pinned
 *   temporal CLI against a dev server, on a namespace of its own: the namespace and exactly the
 *   search attributes of workflows/messages.ts with their types exist afterwards, and a second run
 *   changes nothing;
 * - temporal-schema (deploy/temporal/setup-schema.sh) with a stand-in for temporal-sql-tool
 *   (there is none on this machine) that records its calls and answers as the tool does for a new
 *   database, an existing one and an unreachable server: the commands it runs for each.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT, loadConfig } from '../../config';
import { temporalCliPath } from '../../stack/binaries';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages';
import { startDevServer } from '../helpers/temporal';

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

interface JobService {
  environment: Record<string, string>;
  command: string[];
  volumes: string[];
}

const services = (parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, JobService> }).services;
const setupService = services['temporal-setup']!;
const schemaService = services['temporal-schema']!;
/** The script a job runs, on the host: its container path under the bind mount of ./deploy/temporal. */
function scriptOf(job: JobService): string {
  const [source, target] = job.volumes[0]!.split(':');
  return path.resolve(PROJECT_ROOT, source!, path.relative(target!, job.command[0]!));
}
const script = scriptOf(setupService);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startDevServer();
});

afterAll(async () => {
  await env?.teardown();
});

function runJob(namespace: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  const jobEnv = {
    ...setupService.environment,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    PATH: `${path.dirname(temporalCliPath(loadConfig()))}${path.delimiter}${process.env.PATH}`,
    HOME: process.env.HOME,
  };
  return new Promise((resolve) => {
    execFile('sh', [script], { env: jobEnv, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('creates the namespace and the search attributes of workflows/messages.ts, and a second run changes nothing', async () => {
  const namespace = 'compose-setup';
  const first = await runJob(namespace);
  expect(first).toMatchObject({ code: 0 });
  expect(first.stdout).toContain(`created namespace ${namespace}`);
  for (const key of SEARCH_ATTRIBUTES) expect(first.stdout).toContain(`created search attribute ${key.name}`);

  const listed = await env.connection.operatorService.listSearchAttributes({ namespace });
  const custom = Object.fromEntries(Object.entries(listed.customAttributes ?? {}));
  expect(custom).toEqual(Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, INDEXED_TYPE[key.type]])));

  const second = await runJob(namespace);
  expect(second).toMatchObject({ code: 0 });
  expect(second.stdout).toContain(`namespace ${namespace} exists`);
  expect(second.stdout).not.toContain('created');
});

describe('the schema job, with a stand-in for temporal-sql-tool', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-sql-tool-'));
  const calls = path.join(dir, 'calls.log');
  // Records each call (its arguments and SQL_PASSWORD's presence) and answers `create` as told by STUB_CREATE.
  fs.writeFileSync(
    path.join(dir, 'temporal-sql-tool'),
    [
      '#!/bin/sh',
      `echo "$* password=\${SQL_PASSWORD:+set}" >> "${calls}"`,
      'case " $* " in',
      '  *" create "*)',
      '    case "$STUB_CREATE" in',
      '      exists) echo \'pq: database "x" already exists\' >&2; exit 1 ;;',
      '      down) echo "dial tcp: connection refused" >&2; exit 1 ;;',
      '    esac ;;',
      'esac',
      'exit 0',
    ].join('\n'),
    { mode: 0o755 },
  );
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function runSchemaJob(create: 'new' | 'exists' | 'down'): Promise<{ code: number; stderr: string; calls: string[] }> {
    fs.rmSync(calls, { force: true });
    const jobEnv = { ...schemaService.environment, POSTGRES_PWD: 'test-password', STUB_CREATE: create, PATH: `${dir}${path.delimiter}${process.env.PATH}` };
    return new Promise((resolve) => {
      execFile('sh', [scriptOf(schemaService)], { env: jobEnv, timeout: 30_000 }, (error, _stdout, stderr) => {
        const recorded = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr, calls: recorded });
      });
    });
  }

  const tool = '--plugin postgres12 --ep postgresql -p 5432 -u temporal';
  const schema = '/etc/temporal/schema/postgresql/v12';

  test('a new server: creates both databases, sets them up and updates them, the password only in SQL_PASSWORD', async () => {
    const result = await runSchemaJob('new');
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([
      `${tool} --db temporal create password=set`,
      `${tool} --db temporal setup-schema -v 0.0 password=set`,
      `${tool} --db temporal update-schema -d ${schema}/temporal/versioned password=set`,
      `${tool} --db temporal_visibility create password=set`,
      `${tool} --db temporal_visibility setup-schema -v 0.0 password=set`,
      `${tool} --db temporal_visibility update-schema -d ${schema}/visibility/versioned password=set`,
    ]);
    expect(result.calls.join('\n')).not.toContain('test-password');
  });

  test('run again on existing databases: no second setup, only the updates', async () => {
    const result = await runSchemaJob('exists');
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([
      `${tool} --db temporal create password=set`,
      `${tool} --db temporal update-schema -d ${schema}/temporal/versioned password=set`,
      `${tool} --db temporal_visibility create password=set`,
      `${tool} --db temporal_visibility update-schema -d ${schema}/visibility/versioned password=set`,
    ]);
  });

  test('a server it cannot reach: fails at once, saying where', async () => {
    const result = await runSchemaJob('down');
    expect(result.code).toBe(1);
    expect(result.calls).toEqual([`${tool} --db temporal create password=set`]);
    expect(result.stderr).toContain('could not create database temporal on postgresql:5432 as temporal');
  });
});
