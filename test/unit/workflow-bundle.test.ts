/**
 * A prebuilt workflow bundle (BILLING_WORKFLOW_BUNDLE) is loaded only when its manifest matches the
 * worker's options; and the worker's email lease (BILLING_MAIL_LEASE_SECONDS).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config';
import { prebuiltWorkflowBundle, WorkflowBundleMismatchError, workflowBundleManifestPath } from '../../workers/worker';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's own package.json
const SDK_VERSION = (require('@temporalio/worker/package.json') as { version: string }).version;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bundle-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function givenBundle(name: string, manifest: object | undefined): string {
  const codePath = path.join(dir, name);
  fs.writeFileSync(codePath, '// bundle\n');
  if (manifest) fs.writeFileSync(workflowBundleManifestPath(codePath), JSON.stringify(manifest));
  return codePath;
}

test('a bundle whose manifest matches the worker is loaded from its file', () => {
  const codePath = givenBundle('plain.js', { encrypted: false, tracing: false, version: SDK_VERSION });
  expect(prebuiltWorkflowBundle(codePath, { encrypted: false, tracing: false })).toEqual({ codePath });
});

test('a bundle built without encryption is refused by a worker with codec keys, naming both', () => {
  const codePath = givenBundle('plain2.js', { encrypted: false, tracing: false, version: SDK_VERSION });
  expect(() => prebuiltWorkflowBundle(codePath, { encrypted: true, tracing: false })).toThrow(WorkflowBundleMismatchError);
  expect(() => prebuiltWorkflowBundle(codePath, { encrypted: true, tracing: false })).toThrow(
    `workflow bundle ${codePath} was built with encrypted=false tracing=false sdk=${SDK_VERSION} but this worker runs with encrypted=true tracing=false sdk=${SDK_VERSION}; rebuild it with \`billing worker --build-bundle ${codePath} --encrypted\` or unset BILLING_WORKFLOW_BUNDLE`,
  );
});

test('a bundle with tracing, or of another SDK version, is refused by a worker without', () => {
  const traced = givenBundle('traced.js', { encrypted: false, tracing: true, version: SDK_VERSION });
  expect(() => prebuiltWorkflowBundle(traced, { encrypted: false, tracing: false })).toThrow(/built with encrypted=false tracing=true .* runs with encrypted=false tracing=false/);
  const old = givenBundle('old.js', { encrypted: false, tracing: false, version: '0.0.1' });
  expect(() => prebuiltWorkflowBundle(old, { encrypted: false, tracing: false })).toThrow(/sdk=0\.0\.1 but this worker runs with .*sdk=/);
});

test('a bundle without a manifest is refused with how to build one', () => {
  const codePath = givenBundle('bare.js', undefined);
  expect(() => prebuiltWorkflowBundle(codePath, { encrypted: false, tracing: false })).toThrow(
    new RegExp(`workflow bundle ${codePath} has no readable manifest ${codePath}\\.json .*billing worker --build-bundle`),
  );
});

test('BILLING_WORKFLOW_BUNDLE is read as an absolute path; unset, the worker bundles at start', () => {
  expect(loadConfig({}).workflowBundle).toBeUndefined();
  expect(loadConfig({ BILLING_WORKFLOW_BUNDLE: 'dist/workflow-bundle.js' }).workflowBundle).toBe(path.resolve('dist/workflow-bundle.js'));
});

test('BILLING_MAIL_LEASE_SECONDS defaults to 30 s, and nonsense is refused by name', () => {
  expect(loadConfig({}).mailLeaseSeconds).toBe(30);
  expect(loadConfig({ BILLING_MAIL_LEASE_SECONDS: '3' }).mailLeaseSeconds).toBe(3);
  expect(() => loadConfig({ BILLING_MAIL_LEASE_SECONDS: 'soon' })).toThrow(ConfigError);
  expect(() => loadConfig({ BILLING_MAIL_LEASE_SECONDS: '0' })).toThrow(/BILLING_MAIL_LEASE_SECONDS="0" is invalid/);
});
