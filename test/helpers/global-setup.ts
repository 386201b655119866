/**
 * Once per test run: a real PostgreSQL (embedded unless DATABASE_URL names one) with a migrated
 * template database; each test file clones it (test/helpers/db.ts). The Temporal binaries are
 * checked here so a missing setup fails at once with the fix, and the compiled CLI that tests run as
 * a process (bin/billing.js, dist/) is rebuilt when a source changed since (scripts/build.js).
 * The workflows are bundled here, once, while PostgreSQL starts: every test file's workers load
 * that bundle from its file (test/helpers/temporal.ts, workflowBundle) instead of bundling again,
 * which took each file seconds of CPU. Not when every test path given names a unit test (`npx jest
 * test/unit/...`): those run no worker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { Client } from 'pg';
import { loadConfig } from '../../config';
import { migrate } from '../../db/migrate';
import { temporalCliPath, temporalTestServerPath } from '../../stack/binaries';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../stack/postgres';
import { freePort } from '../../stack/processes';
import { bundleWorkflows } from '../../workers/worker';

declare global {
  var __billingTestStack: { pg?: EmbeddedPostgresHandle; base?: string; adminUrl: string; template: string; bundleDir?: string } | undefined;
}

export default async function globalSetup(globalConfig?: { testPathPatterns?: { patterns?: string[] } }): Promise<void> {
  const config = loadConfig();
  temporalCliPath(config);
  temporalTestServerPath(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain Node script of the project's setup
  (require('../../scripts/build.js') as { ensureBuilt: () => boolean }).ensureBuilt();
  const patterns = globalConfig?.testPathPatterns?.patterns ?? [];
  const unitOnly = patterns.length > 0 && patterns.every((p) => /(^|\/)test\/unit\//.test(p));
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-test-workflows-'));
  const bundled = unitOnly
    ? Promise.resolve(undefined)
    : bundleWorkflows(new DefaultLogger('WARN')).then(({ code }) => {
        const codePath = path.join(bundleDir, 'workflow-bundle.js');
        fs.writeFileSync(codePath, code);
        return codePath;
      });
  // Handled here so that a failure elsewhere first does not leave it unhandled; awaited below.
  bundled.catch(() => undefined);

  let adminUrl: string;
  let pg: EmbeddedPostgresHandle | undefined;
  let base: string | undefined;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-test-'));
    fs.chmodSync(base, 0o755);
    pg = await startEmbeddedPostgres({ dataDir: path.join(base, 'pg'), port: await freePort(), persistent: false });
    adminUrl = pg.adminUrl;
  }
  const template = `billing_test_template_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await migrate(templateUrl.toString());

  const codePath = await bundled;

  globalThis.__billingTestStack = { pg, base, adminUrl, template, bundleDir };
  process.env.BILLING_TEST_ADMIN_URL = adminUrl;
  process.env.BILLING_TEST_TEMPLATE = template;
  if (codePath) process.env.BILLING_TEST_WORKFLOW_BUNDLE = codePath;
}
