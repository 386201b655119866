/**
 * The one-shot job of docker-compose.yml that creates the namespace and the billing search
 * attributes (service temporal-setup, deploy/temporal/create-namespace-and-search-attributes.sh),
 * run as the compose file runs it (`sh`, its environment) with the pinned temporal CLI against a
 * dev server, on a namespace of its own: the namespace and exactly the search attributes of
 * workflows/messages.ts with their types exist afterwards, and a second run changes nothing.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
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
};

interface SetupService {
  environment: Record<string, string>;
  command: string[];
  volumes: string[];
}

const setupService = (parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, SetupService> }).services[
  'temporal-setup'
]!;
/** The script the job runs, on the host: its container path under the bind mount of ./deploy/temporal. */
const script = (() => {
  const [source, target] = setupService.volumes[0]!.split(':');
  return path.resolve(PROJECT_ROOT, source!, path.relative(target!, setupService.command[0]!));
})();

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
