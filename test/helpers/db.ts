/** A fresh database per test file, cloned from the migrated template made by global-setup. */
import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool } from '../../db/pool';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** Runs `action` on a connection to the test run's PostgreSQL as its administrator. */
export async function admin<T>(action: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.BILLING_TEST_ADMIN_URL });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.BILLING_TEST_ADMIN_URL;
  const template = process.env.BILLING_TEST_TEMPLATE;
  if (!adminUrl || !template) throw new Error('BILLING_TEST_ADMIN_URL is not set: run the tests through jest (global-setup)');
  const name = `billing_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString());
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
