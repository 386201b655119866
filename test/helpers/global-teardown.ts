import fs from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__billingTestStack;
  if (!stack) return;
  if (stack.pg) {
    await stack.pg.stop();
  } else {
    const admin = new Client({ connectionString: stack.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${stack.template}`).finally(() => admin.end());
  }
  if (stack.base) fs.rmSync(stack.base, { recursive: true, force: true });
  if (stack.bundleDir) fs.rmSync(stack.bundleDir, { recursive: true, force: true });
}
