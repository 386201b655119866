/**
 * docker-compose.yml and the Dockerfile cannot be run on these machines (no Docker engine), so this
 * test checks that they agree with the code (DESIGN, "Real components"): the services exist, the
 * published ports are config/index.ts's LOCAL_PORTS, the worker's environment is a valid config
 * that points at the compose services, images are pinned, and the image holds every source folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { LOCAL_PORTS, PROJECT_ROOT, loadConfig } from '../../config';

type Env = Record<string, string>;

interface Port {
  published?: number;
  target: number;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: Array<string | number | { target: number | string; published?: number | string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  volumes?: Array<string | { source?: string; target?: string }>;
  restart?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_PATH = path.join(PROJECT_ROOT, 'docker-compose.yml');
const DOCKERFILE_PATH = path.join(PROJECT_ROOT, 'Dockerfile');

const compose = parse(fs.readFileSync(COMPOSE_PATH, 'utf8')) as ComposeFile;
const dockerfile = fs.readFileSync(DOCKERFILE_PATH, 'utf8');

const REQUIRED_SERVICES = ['postgresql', 'temporal', 'temporal-ui', 'mail', 'worker', 'migrate'];
/** The top-level folders the running code needs (tsconfig's sources without tests, scripts, benchmarks). */
const SOURCE_FOLDERS = ['billing', 'workflows', 'activities', 'workers', 'client', 'config', 'stack', 'db', 'bin'];

function service(name: string): Service {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** A service's environment as strings, whether written as a map or as a KEY=VALUE list. */
function envOf(name: string): Env {
  const raw = service(name).environment ?? {};
  const env: Env = {};
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else {
    for (const [key, value] of Object.entries(raw)) {
      if (value !== null && value !== undefined) env[key] = String(value);
    }
  }
  return env;
}

/** Parses the short ("[ip:]host:container[/proto]") and long ({ target, published }) port syntaxes. */
function portsOf(name: string): Port[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { target: Number(p.target), published: p.published === undefined ? undefined : Number(p.published) };
    }
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    return { target, published };
  });
}

function publishedFor(name: string, target: number): number | undefined {
  return portsOf(name).find((p) => p.target === target)?.published;
}

function dependsOn(name: string): Record<string, string> {
  const deps = service(name).depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']));
}

function commandOf(name: string): string[] {
  const cmd = service(name).command;
  if (cmd === undefined) return [];
  return Array.isArray(cmd) ? cmd.map(String) : cmd.trim().split(/\s+/);
}

/** The tag (or digest) of an image reference, ignoring a registry's host:port. */
function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon >= 0 ? lastSegment.slice(colon + 1) : undefined;
}

function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

describe('docker-compose.yml', () => {
  test('has every service of the stack', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
  });

  test('publishes the same host ports as LOCAL_PORTS in config/index.ts', () => {
    const temporalGrpc = portsOf('temporal')[0]!.target;
    expect(publishedFor('temporal', temporalGrpc)).toBe(LOCAL_PORTS.temporal);
    expect(publishedFor('temporal-ui', 8080)).toBe(LOCAL_PORTS.temporalUi);

    const mailEnv = envOf('mail');
    expect(publishedFor('mail', Number(mailEnv.MAILDEV_SMTP_PORT))).toBe(LOCAL_PORTS.smtp);
    expect(publishedFor('mail', Number(mailEnv.MAILDEV_WEB_PORT))).toBe(LOCAL_PORTS.mailWeb);

    expect(publishedFor('postgresql', 5432)).toBe(5432);
  });

  test('pins every image to an explicit tag', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image === undefined) {
        expect({ name, build: s.build }).toEqual({ name, build: expect.anything() });
        continue;
      }
      const tag = imageTag(s.image);
      expect({ name, image: s.image, tag }).toEqual({ name, image: s.image, tag: expect.stringMatching(/\S/) });
      expect({ name, image: s.image, tag }).not.toEqual(expect.objectContaining({ tag: 'latest' }));
    }
  });

  test('PostgreSQL has a pg_isready health check and a named volume', () => {
    const pg = service('postgresql');
    expect(imageTag(pg.image!)).toMatch(/^16/);
    expect([pg.healthcheck?.test ?? []].flat().join(' ')).toContain('pg_isready');
    const volumeSources = (pg.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source));
    const named = volumeSources.filter((v): v is string => !!v && !v.startsWith('.') && !v.startsWith('/'));
    expect(named.length).toBeGreaterThan(0);
    for (const v of named) expect(Object.keys(compose.volumes ?? {})).toContain(v);
  });

  test('Temporal persists in the same PostgreSQL, after it is healthy', () => {
    const env = envOf('temporal');
    const pgEnv = envOf('postgresql');
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(Number(env.DB_PORT)).toBe(5432);
    expect(env.POSTGRES_USER).toBe(pgEnv.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(pgEnv.POSTGRES_PASSWORD);
    // Temporal's own databases are not the billing one.
    expect([env.DBNAME ?? 'temporal', env.VISIBILITY_DBNAME ?? 'temporal_visibility']).not.toContain(pgEnv.POSTGRES_DB);
    expect(dependsOn('temporal')).toMatchObject({ postgresql: 'service_healthy' });
  });

  test('the Temporal UI talks to the temporal service', () => {
    const { host, port } = hostPort(envOf('temporal-ui').TEMPORAL_ADDRESS!);
    expect(host).toBe('temporal');
    expect(portsOf('temporal').map((p) => p.target)).toContain(port);
  });

  describe('worker', () => {
    const workerEnv = envOf('worker');

    test("runs bin/billing.js worker, restarts, and starts after migrate, Temporal and mail", () => {
      expect(commandOf('worker')).toEqual(['node', 'bin/billing.js', 'worker']);
      expect(service('worker').restart).toBe('unless-stopped');
      expect(service('worker').build).toBeDefined();
      expect(dependsOn('worker')).toMatchObject({
        migrate: 'service_completed_successfully',
        temporal: expect.any(String),
        mail: expect.any(String),
      });
    });

    test("its environment is a valid config pointing at the compose PostgreSQL", () => {
      const config = loadConfig(workerEnv);
      const pgEnv = envOf('postgresql');
      const url = new URL(config.databaseUrl);
      expect(config.externalDatabase).toBe(true);
      expect(url.protocol).toMatch(/^postgres(ql)?:$/);
      expect(url.hostname).toBe('postgresql');
      expect(portsOf('postgresql').map((p) => p.target)).toContain(Number(url.port || 5432));
      expect(decodeURIComponent(url.username)).toBe(pgEnv.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pgEnv.POSTGRES_PASSWORD);
      expect(url.pathname.slice(1)).toBe(pgEnv.POSTGRES_DB);
    });

    test("mails through the mail service's SMTP port, on the 'billing' task queue", () => {
      const config = loadConfig(workerEnv);
      const smtp = new URL(config.smtpUrl);
      expect(smtp.protocol).toBe('smtp:');
      expect(smtp.hostname).toBe('mail');
      expect(Number(smtp.port)).toBe(Number(envOf('mail').MAILDEV_SMTP_PORT));
      expect(config.taskQueue).toBe('billing');
      expect(config.mailFrom).toBeTruthy();
      expect(config.supportEmail).toMatch(/@/);
    });

    test('reaches the temporal service on its container port, as @temporalio/envconfig reads it', () => {
      const { host, port } = hostPort(workerEnv.TEMPORAL_ADDRESS!);
      expect(host).toBe('temporal');
      expect(portsOf('temporal').map((p) => p.target)).toContain(port);

      const connect = loadClientConnectConfig({ disableFile: true, overrideEnvVars: workerEnv });
      expect(connect.connectionOptions.address).toBe(workerEnv.TEMPORAL_ADDRESS);
      expect(connect.namespace).toBe('default');
    });
  });

  test('migrate is a one-shot of the same image, after PostgreSQL is healthy, with the same database', () => {
    const migrate = service('migrate');
    expect(commandOf('migrate')).toEqual(['node', 'bin/billing.js', 'db', 'migrate']);
    expect(migrate.restart ?? 'no').toBe('no');
    expect(dependsOn('migrate')).toMatchObject({ postgresql: 'service_healthy' });
    expect(migrate.build ?? migrate.image).toEqual(service('worker').build ?? service('worker').image);
    expect(loadConfig(envOf('migrate')).databaseUrl).toBe(loadConfig(envOf('worker')).databaseUrl);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const copies = instructions.filter((line) => /^COPY\s/i.test(line));
  const copiedSources = copies.flatMap((line) => {
    const args = line.replace(/^COPY\s+/i, '').split(/\s+/).filter((a) => !a.startsWith('--'));
    return args.slice(0, -1).map((a) => a.replace(/^\.\//, '').replace(/\/$/, ''));
  });

  // The image is the last stage; an earlier one compiles the sources (tsconfig.build.json).
  const image = instructions.slice(instructions.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));

  test('is based on Node 20 with the app in /app', () => {
    for (const from of instructions.filter((l) => /^FROM\s/i.test(l))) expect(from).toMatch(/^FROM\s+node:20[\w.-]*\b/i);
    expect(image).toContain('WORKDIR /app');
  });

  test('installs production dependencies from the lockfile with npm ci', () => {
    expect(copiedSources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    const install = image.find((l) => /^RUN\s.*\bnpm\s+ci\b/i.test(l));
    expect(install).toBeDefined();
    expect(install).toMatch(/--omit=dev/);
    expect(instructions.some((l) => /^RUN\s.*\bnpm\s+(install|i)\b/i.test(l))).toBe(false);
    // The lockfile is copied before the install runs.
    const lockIndex = image.findIndex((l) => /^COPY\s/i.test(l) && l.includes('package-lock.json'));
    expect(lockIndex).toBeGreaterThanOrEqual(0);
    expect(lockIndex).toBeLessThan(image.indexOf(install!));
  });

  test('compiles the sources in a build stage and copies dist/ and the migrations into the image', () => {
    expect(instructions.some((l) => /^RUN\s.*scripts\/build\.js/.test(l))).toBe(true);
    expect(image).toEqual(expect.arrayContaining([expect.stringMatching(/^COPY\s+--from=\S+\s+\/app\/dist\s+\.\/dist$/), 'COPY db/migrations ./db/migrations', 'COPY bin ./bin']));
  });

  test.each(SOURCE_FOLDERS)('copies the %s folder', (folder) => {
    const copiesAll = copiedSources.includes('.');
    expect(copiesAll || copiedSources.includes(folder)).toBe(true);
  });

  test('every copied source folder exists and none is excluded by .dockerignore', () => {
    const ignorePath = path.join(PROJECT_ROOT, '.dockerignore');
    const ignored = fs.existsSync(ignorePath)
      ? fs.readFileSync(ignorePath, 'utf8').split(/\r?\n/).map((l) => l.trim().replace(/^\//, '').replace(/\/$/, '')).filter((l) => l && !l.startsWith('#'))
      : [];
    for (const folder of SOURCE_FOLDERS) {
      expect({ folder, exists: fs.existsSync(path.join(PROJECT_ROOT, folder)) }).toEqual({ folder, exists: true });
      expect(ignored).not.toContain(folder);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });

  test('runs the worker through bin/billing.js in production mode', () => {
    expect(instructions.some((l) => /^ENV\s+NODE_ENV[= ]production\b/i.test(l))).toBe(true);
    const cmd = [...instructions].reverse().find((l) => /^CMD\s/i.test(l));
    expect(JSON.parse(cmd!.replace(/^CMD\s+/i, ''))).toEqual(['node', 'bin/billing.js', 'worker']);
    expect(commandOf('worker')).toEqual(JSON.parse(cmd!.replace(/^CMD\s+/i, '')));
  });
});
