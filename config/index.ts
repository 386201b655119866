/**
 * All configuration, read from the environment in one place, with defaults that work on a fresh
 * machine (DESIGN, "Interfaces"). Temporal's connection is read by @temporalio/envconfig
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profile file): see client/temporal.ts.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { Seller } from '../billing/invoice-document';
import { isValidTimeZone } from '../billing/periods';
import { DaySchema } from '../billing/validation';

/**
 * Records per import transaction. Fewer, larger batches cost PostgreSQL less per record: 50,000
 * imports a million rows in about 7 s here against 9 s for 10,000 (`npm run bench -- import`); a
 * batch is about 15 MB of COPY text in memory.
 */
export const DEFAULT_IMPORT_BATCH_ROWS = 50_000;

/** Calls dated before this day, or more than this many hours after the import, are rejected (billing/cdr/call-dates.ts). */
export const DEFAULT_IMPORT_EARLIEST = '2000-01-01';
export const DEFAULT_IMPORT_MAX_FUTURE_HOURS = 24;

/** The checkout's root, whether this runs from the sources (tsx, jest) or compiled into dist/ (bin/billing.js). */
export const PROJECT_ROOT = path.resolve(__dirname, __filename.endsWith('.js') ? '../..' : '..');

/** Ports of the local stack started by `billing dev`; docker-compose.yml publishes the same. */
export const LOCAL_PORTS = {
  postgres: 54329,
  temporal: 7233,
  temporalUi: 8233,
  smtp: 1025,
  mailWeb: 1080,
  codecServer: 8081,
  console: 8090,
} as const;

export const EMBEDDED_POSTGRES = {
  user: 'postgres',
  password: 'billing',
  database: 'billing',
} as const;

export function localDatabaseUrl(port: number = LOCAL_PORTS.postgres, database: string = EMBEDDED_POSTGRES.database): string {
  return `postgres://${EMBEDDED_POSTGRES.user}:${EMBEDDED_POSTGRES.password}@127.0.0.1:${port}/${database}`;
}

/** The seller block of every invoice (BILLING_SELLER_*): an example company until configured. */
export const DEFAULT_SELLER: Seller = {
  name: 'RedConnect Telecom Ltd',
  address: ['1 Harbour Street', 'Springfield, IL 62701', 'United States'],
  taxId: 'US 12-3456789',
  email: 'billing@redconnect.example',
};

/** An entry of BILLING_CONSOLE_TRUSTED_PROXIES: an address, a CIDR range, or one of proxy-addr's names. */
function isProxyItem(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, bits, extra] = item.split('/');
  if (extra !== undefined || !address || isIP(address) === 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
}

export const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  BILLING_TASK_QUEUE: z.string().min(1).default('billing'),
  SMTP_URL: z.string().url().default(`smtp://127.0.0.1:${LOCAL_PORTS.smtp}`),
  MAIL_FROM: z.string().min(3).default('RedConnect Billing <billing@redconnect.example>'),
  SUPPORT_EMAIL: z.string().email().default('support@redconnect.example'),
  BILLING_OPS_EMAIL: z.string().email().default('billing-ops@redconnect.example'),
  BILLING_DATA_DIR: z.string().min(1).optional(),
  BILLING_CLOSE_GRACE_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 14)
    .default(6),
  BILLING_CLOSE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  BILLING_CLOSE_SCHEDULE_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM')
    .default('06:00'),
  BILLING_CLOSE_SCHEDULE_TIMEZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone name such as UTC or Europe/Berlin').default('UTC'),
  BILLING_LIMIT_REMINDER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(48),
  BILLING_LIMIT_EXPIRY_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  BILLING_LIMIT_CEILING_MINUTES: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  BILLING_ABUSE_REMINDER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
  BILLING_ABUSE_SCAN_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM')
    .default('13:00'),
  BILLING_ABUSE_SCAN_TIMEZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone name such as UTC or Europe/Berlin').default('UTC'),
  BILLING_ABUSE_SCAN_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  BILLING_POLICY_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  BILLING_POLICY_RETRY_MAX_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  BILLING_IMPORT_BATCH_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_IMPORT_BATCH_ROWS),
  BILLING_IMPORT_EARLIEST: DaySchema.default(DEFAULT_IMPORT_EARLIEST),
  BILLING_IMPORT_MAX_FUTURE_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 366)
    .default(DEFAULT_IMPORT_MAX_FUTURE_HOURS),
  // Checked against libphonenumber's countries where it is used (billing/numbers.ts), not on every start.
  BILLING_DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter ISO 3166 country code such as US, GB or DE')
    .default('US'),
  BILLING_WORKER_CACHED_RUNS: z.coerce.number().int().min(2).max(10_000_000).optional(),
  BILLING_MAIL_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  BILLING_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  BILLING_CODEC_KEYS: z.string().optional(),
  BILLING_CODEC_KEY_FILE: z.string().min(1).optional(),
  BILLING_CODEC_TOKEN: z.string().min(16, 'must be at least 16 characters (generate one with `openssl rand -hex 32`)').optional(),
  BILLING_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  BILLING_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  BILLING_LOG_FORMAT: z.enum(['auto', 'json', 'text']).default('auto'),
  BILLING_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('billing-worker'),
  BILLING_SELLER_NAME: z.string().trim().min(1).default(DEFAULT_SELLER.name),
  BILLING_SELLER_ADDRESS: z.string().trim().min(1, 'must be the postal address, its lines separated by "|"').default(DEFAULT_SELLER.address.join(' | ')),
  BILLING_SELLER_TAX_ID: z.string().trim().min(1).default(DEFAULT_SELLER.taxId),
  BILLING_SELLER_EMAIL: z.string().email().default(DEFAULT_SELLER.email),
  BILLING_CONSOLE_PORT: z.coerce.number().int().min(1).max(65_535).default(LOCAL_PORTS.console),
  BILLING_CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  BILLING_CONSOLE_SECRET: z.string().min(32, 'must be at least 32 characters (generate one with `openssl rand -hex 32`)').optional(),
  BILLING_CONSOLE_TRUST_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name such as X-Forwarded-User')
    .optional(),
  BILLING_CONSOLE_TRUSTED_PROXIES: z
    .string()
    .default('loopback')
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    )
    .refine((items) => items.length > 0 && items.every(isProxyItem), {
      message: 'must be a comma-separated list of addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, uniquelocal',
    }),
  BILLING_TEMPORAL_UI_URL: z.string().url().default(`http://localhost:${LOCAL_PORTS.temporalUi}`),
  NODE_ENV: z.string().optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1).optional(),
});

export interface Config {
  /** The database every process uses; the embedded one's address when DATABASE_URL is unset. */
  databaseUrl: string;
  /** True when DATABASE_URL names an external PostgreSQL, so nothing embedded is started. */
  externalDatabase: boolean;
  taskQueue: string;
  smtpUrl: string;
  mailFrom: string;
  supportEmail: string;
  billingOpsEmail: string;
  dataDir: string;
  closeGraceHours: number;
  closeBatchSize: number;
  /** When the Schedule closes the month that just ended: on the 1st, at this time in this zone. */
  closeScheduleTime: string;
  closeScheduleTimezone: string;
  /** Records per import transaction: an interrupted import leaves whole batches. */
  importBatchRows: number;
  /** Call records dated before this day (YYYY-MM-DD, UTC) are rejected... */
  importEarliest: string;
  /** ...and so are those dated more than this many hours after the import. */
  importMaxFutureHours: number;
  /**
   * The country of numbers written without a country code (`4155550101`, `(415) 555-0101`), for
   * `subscribers add` and `usage import` unless they are given --country.
   */
  defaultCountry: string;
  /** Workflow runs the worker keeps in memory between their tasks; unset, workers/worker.ts sizes it from the heap. */
  workerCachedRuns?: number;
  /**
   * How long an email send holds its outbox row before another attempt may take it over as
   * abandoned (db/outbox.ts); the attempt renews it while it runs, so only a dead worker lets it lapse.
   */
  mailLeaseSeconds: number;
  /** A prebuilt workflow bundle (`billing worker --build-bundle FILE`) the worker loads instead of bundling at start. */
  workflowBundle?: string;
  /** Limit-increase requests: support is reminded after this long without a decision... */
  limitReminderHours: number;
  /** ...and the request expires after this long. */
  limitExpiryDays: number;
  /** The highest monthly limit a request may ask for or support may grant. */
  limitCeilingMinutes: number;
  /** Abuse cases: support is reminded once after this long without a decision. */
  abuseReminderHours: number;
  /**
   * When the Schedule scans for abuse: daily at this time in this zone, the day before. 13:00 UTC
   * is after the end of the day before in every zone (UTC-12 ends it at 12:00 UTC).
   */
  abuseScanTime: string;
  abuseScanTimezone: string;
  /** Subscribers per scan activity. */
  abuseScanBatchSize: number;
  /** Policy revisions: subscribers queued and emails sent per batch... */
  policyBatchSize: number;
  /** ...and the longest wait between attempts while the mail server fails. */
  policyRetryMaxMinutes: number;
  /**
   * Payload encryption keys (codec/keys.ts): `id:base64,...`, the current key first, or a file of
   * them. Neither set: payloads go to Temporal in clear (`billing dev` makes a key of its own).
   */
  codecKeys?: string;
  codecKeyFile?: string;
  /** The bearer token `billing codec-server` requires, if any. */
  codecToken?: string;
  /** The worker's metrics and health endpoint (/metrics, /healthz, /readyz); none when unset. */
  metricsPort?: number;
  metricsHost: string;
  /** Log lines as JSON, as text, or JSON unless stderr is a terminal (auto). */
  logFormat: 'auto' | 'json' | 'text';
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Traces exported by OTLP/HTTP there; no tracing when unset. */
  otlpEndpoint?: string;
  otelServiceName: string;
  /** The support console (`billing console`): where it listens... */
  consolePort: number;
  consoleHost: string;
  /**
   * ...the key its cookies are signed with (unset: outside production, one the local stack keeps
   * in the data folder, console/secret.ts)...
   */
  consoleSecret?: string;
  /** ...and the header a reverse proxy names the signed-in member in; none is honoured when unset. */
  consoleTrustHeader?: string;
  /** The reverse proxies the console believes (its header, X-Forwarded-For/Proto): addresses, CIDR ranges or proxy-addr's names. */
  consoleTrustedProxies: string[];
  /** The Temporal UI the console links runs to (no trailing slash). */
  temporalUiUrl: string;
  /** NODE_ENV=production: no secret of the data folder's, BILLING_CONSOLE_SECRET is required. */
  production: boolean;
  temporalCliPath?: string;
  temporalTestServerPath?: string;
  /** The seller block of every invoice: name, address lines, tax ID, email. */
  seller: Seller;
}

export class ConfigError extends Error {}

/**
 * BILLING_DEFAULT_COUNTRY alone (default US), for code that has no Config in hand: attribution
 * in activities (the directory of numbers) reads numbers as the CLI does.
 */
export function defaultCountryFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = EnvSchema.shape.BILLING_DEFAULT_COUNTRY.safeParse(env.BILLING_DEFAULT_COUNTRY);
  if (!parsed.success)
    throw new ConfigError(`environment variable BILLING_DEFAULT_COUNTRY=${JSON.stringify(env.BILLING_DEFAULT_COUNTRY)} is invalid: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * A URL with its password replaced by *** (`postgres://billing:***@db:5432/billing`), for every
 * message and log line that names a database or mail server. Written for malformed URLs too (a
 * password with an unescaped / or @, no //): everything between the user's colon and the last @
 * is the password.
 */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const slashes = url.indexOf('//');
  const schemeColon = url.indexOf(':');
  const start = slashes >= 0 && slashes < at ? slashes + 2 : schemeColon >= 0 && schemeColon < at ? schemeColon + 1 : 0;
  const colon = url.indexOf(':', start);
  if (colon < 0 || colon > at) return url;
  return `${url.slice(0, colon)}:***${url.slice(at)}`;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const value = env[name];
    // Secrets are never echoed: a token or key list shows as ***.
    const shown = value === undefined ? value : name.endsWith('_URL') ? redactUrl(value) : /_(TOKEN|KEYS|SECRET)$/.test(name) ? '***' : value;
    throw new ConfigError(`environment variable ${name}=${JSON.stringify(shown)} is invalid: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL ?? localDatabaseUrl(),
    externalDatabase: e.DATABASE_URL !== undefined,
    taskQueue: e.BILLING_TASK_QUEUE,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    supportEmail: e.SUPPORT_EMAIL,
    billingOpsEmail: e.BILLING_OPS_EMAIL,
    dataDir: path.resolve(e.BILLING_DATA_DIR ?? path.join(PROJECT_ROOT, '.data')),
    closeGraceHours: e.BILLING_CLOSE_GRACE_HOURS,
    closeBatchSize: e.BILLING_CLOSE_BATCH_SIZE,
    importBatchRows: e.BILLING_IMPORT_BATCH_ROWS,
    importEarliest: e.BILLING_IMPORT_EARLIEST,
    importMaxFutureHours: e.BILLING_IMPORT_MAX_FUTURE_HOURS,
    defaultCountry: e.BILLING_DEFAULT_COUNTRY,
    workerCachedRuns: e.BILLING_WORKER_CACHED_RUNS,
    mailLeaseSeconds: e.BILLING_MAIL_LEASE_SECONDS,
    workflowBundle: e.BILLING_WORKFLOW_BUNDLE === undefined ? undefined : path.resolve(e.BILLING_WORKFLOW_BUNDLE),
    limitReminderHours: e.BILLING_LIMIT_REMINDER_HOURS,
    limitExpiryDays: e.BILLING_LIMIT_EXPIRY_DAYS,
    limitCeilingMinutes: e.BILLING_LIMIT_CEILING_MINUTES,
    abuseReminderHours: e.BILLING_ABUSE_REMINDER_HOURS,
    abuseScanTime: e.BILLING_ABUSE_SCAN_TIME,
    abuseScanTimezone: e.BILLING_ABUSE_SCAN_TIMEZONE,
    abuseScanBatchSize: e.BILLING_ABUSE_SCAN_BATCH_SIZE,
    policyBatchSize: e.BILLING_POLICY_BATCH_SIZE,
    policyRetryMaxMinutes: e.BILLING_POLICY_RETRY_MAX_MINUTES,
    closeScheduleTime: e.BILLING_CLOSE_SCHEDULE_TIME,
    closeScheduleTimezone: e.BILLING_CLOSE_SCHEDULE_TIMEZONE,
    codecKeys: e.BILLING_CODEC_KEYS,
    codecKeyFile: e.BILLING_CODEC_KEY_FILE === undefined ? undefined : path.resolve(e.BILLING_CODEC_KEY_FILE),
    codecToken: e.BILLING_CODEC_TOKEN,
    metricsPort: e.BILLING_METRICS_PORT,
    metricsHost: e.BILLING_METRICS_HOST,
    logFormat: e.BILLING_LOG_FORMAT,
    logLevel: e.BILLING_LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    otelServiceName: e.OTEL_SERVICE_NAME,
    consolePort: e.BILLING_CONSOLE_PORT,
    consoleHost: e.BILLING_CONSOLE_HOST,
    consoleSecret: e.BILLING_CONSOLE_SECRET,
    consoleTrustHeader: e.BILLING_CONSOLE_TRUST_HEADER?.toLowerCase(),
    consoleTrustedProxies: e.BILLING_CONSOLE_TRUSTED_PROXIES,
    temporalUiUrl: e.BILLING_TEMPORAL_UI_URL.replace(/\/+$/, ''),
    production: e.NODE_ENV === 'production',
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    temporalTestServerPath: e.TEMPORAL_TEST_SERVER_PATH,
    seller: {
      name: e.BILLING_SELLER_NAME,
      address: e.BILLING_SELLER_ADDRESS.split('|')
        .map((line) => line.trim())
        .filter((line) => line !== ''),
      taxId: e.BILLING_SELLER_TAX_ID,
      email: e.BILLING_SELLER_EMAIL,
    },
  };
}
