/** What the benchmarks share: their options, their progress lines and a fresh database. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../stack/postgres';
import { freePort } from '../stack/processes';

export function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive whole number, got ${process.argv[i + 1]}`);
  return value;
}

export function textOption(name: string, fallback: string, valid: RegExp): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1] ?? '';
  if (!valid.test(value)) throw new Error(`--${name} takes a value matching ${valid}, got ${value}`);
  return value;
}

export const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** `count` a second, as a whole number with thousands separators. */
export const perSecond = (count: number, seconds: number): string => Math.round(count / seconds).toLocaleString('en');

/**
 * A fresh, migrated database for one benchmark: on DATABASE_URL's server when set, else on an
 * embedded PostgreSQL started for the run; dropped (and the embedded server stopped) afterwards.
 */
export async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  let pg: EmbeddedPostgresHandle | undefined;
  let base: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-'));
    fs.chmodSync(base, 0o755);
    pg = await startEmbeddedPostgres({ dataDir: path.join(base, 'pg'), port: await freePort(), persistent: false });
    adminUrl = pg.adminUrl;
  }
  const name = `billing_bench_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await migrate(url.toString());
    return await work(url.toString());
  } finally {
    const cleanup = new Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => cleanup.end());
    await pg?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }
}
