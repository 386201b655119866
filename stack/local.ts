/**
 * The local stack of `billing dev` and `billing demo` (DESIGN, "Real components"): PostgreSQL
 * (embedded unless DATABASE_URL is set), the Temporal dev server with its UI (unless
 * TEMPORAL_ADDRESS is set), a mail inbox with a web page (unless SMTP_URL is set). Each part
 * that is configured externally is used as it is.
 */
import path from 'node:path';
import { LOCAL_PORTS, PROJECT_ROOT, type Config } from '../config';
import { migrate } from '../db/migrate';
import { SEARCH_ATTRIBUTES, cliSearchAttributeType } from '../workflows/messages';
import { temporalCliPath } from './binaries';
import { startEmbeddedPostgres } from './postgres';
import { portInUse, startProcess, waitForPort, type ManagedProcess } from './processes';

export interface LocalStack {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  smtpUrl: string;
  mailWebUrl: string | null;
  stop(): Promise<void>;
}

/**
 * `uiCodecEndpoint`: the codec server the Temporal UI decodes payloads through (codec/server.ts).
 * `temporal: false`: no Temporal dev server (the time-travel demo brings its time-skipping one).
 */
export async function startLocalStack(config: Config, say: (line: string) => void, options: { uiCodecEndpoint?: string; temporal?: boolean } = {}): Promise<LocalStack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  const logDir = path.join(config.dataDir, 'logs');
  try {
    let databaseUrl = config.databaseUrl;
    if (!config.externalDatabase) {
      if (await portInUse(LOCAL_PORTS.postgres)) throw new Error(`port ${LOCAL_PORTS.postgres} is taken: is \`billing dev\` already running? Stop it, or set DATABASE_URL`);
      say(`starting PostgreSQL (embedded, data in ${path.join(config.dataDir, 'postgres')})`);
      const pg = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), port: LOCAL_PORTS.postgres, persistent: true });
      stops.push(pg.stop);
      await ensureDatabase(pg.adminUrl, 'billing');
      databaseUrl = pg.urlFor('billing');
    }
    const applied = await migrate(databaseUrl);
    if (applied.length > 0) say(`applied migrations: ${applied.join(', ')}`);

    let temporalAddress = process.env.TEMPORAL_ADDRESS ?? `localhost:${LOCAL_PORTS.temporal}`;
    let temporalUiUrl: string | null = null;
    if (options.temporal === false) {
      temporalAddress = '';
    } else if (!process.env.TEMPORAL_ADDRESS) {
      if (await portInUse(LOCAL_PORTS.temporal))
        throw new Error(`port ${LOCAL_PORTS.temporal} is taken: is a Temporal server already running? Stop it, or set TEMPORAL_ADDRESS to use it`);
      say('starting the Temporal dev server with its UI');
      const temporal = startProcess(
        'temporal',
        temporalCliPath(config),
        [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(LOCAL_PORTS.temporal),
          '--ui-port',
          String(LOCAL_PORTS.temporalUi),
          '--db-filename',
          path.join(config.dataDir, 'temporal.db'),
          '--log-level',
          'warn',
          ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
          ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${cliSearchAttributeType(key)}`]),
        ],
        logDir,
      );
      stops.push(temporal.stop);
      await waitForPort(LOCAL_PORTS.temporal, 'the Temporal dev server', 60_000, temporal.logFile);
      await waitForPort(LOCAL_PORTS.temporalUi, 'the Temporal UI', 30_000, temporal.logFile);
      temporalAddress = `127.0.0.1:${LOCAL_PORTS.temporal}`;
      temporalUiUrl = `http://localhost:${LOCAL_PORTS.temporalUi}`;
      process.env.TEMPORAL_ADDRESS = temporalAddress;
    }

    let smtpUrl = config.smtpUrl;
    let mailWebUrl: string | null = null;
    if (!process.env.SMTP_URL) {
      if (await portInUse(LOCAL_PORTS.smtp)) throw new Error(`port ${LOCAL_PORTS.smtp} is taken: is a mail inbox already running? Stop it, or set SMTP_URL`);
      say('starting the mail inbox (maildev)');
      const mail: ManagedProcess = startProcess(
        'maildev',
        process.execPath,
        [
          path.join(PROJECT_ROOT, 'node_modules', 'maildev', 'dist', 'bin', 'maildev.js'),
          '--smtp',
          String(LOCAL_PORTS.smtp),
          '--ip',
          '127.0.0.1',
          '--web',
          String(LOCAL_PORTS.mailWeb),
          '--web-ip',
          '127.0.0.1',
          '--mail-directory',
          path.join(config.dataDir, 'mail'),
        ],
        logDir,
      );
      stops.push(mail.stop);
      await waitForPort(LOCAL_PORTS.smtp, 'the mail inbox', 30_000, mail.logFile);
      smtpUrl = `smtp://127.0.0.1:${LOCAL_PORTS.smtp}`;
      mailWebUrl = `http://localhost:${LOCAL_PORTS.mailWeb}`;
    }
    return { databaseUrl, temporalAddress, temporalUiUrl, smtpUrl, mailWebUrl, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}
