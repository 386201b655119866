/**
 * Usage sources (issue 14): a switch registered once with the settings its records are read with,
 * and its collector's progress and health. The DSN of an asterisk-db source holds a password: it
 * leaves this module in clear only through sourceWithDsn, for the collector's activity; every
 * other read gives it redacted (config's redactUrl).
 */
import type { Pool, PoolClient } from 'pg';
import { redactUrl } from '../config';

export type SourceKind = 'asterisk-db' | 'spool';
export const SOURCE_KINDS: SourceKind[] = ['asterisk-db', 'spool'];

export interface SourceSettings {
  name: string;
  kind: SourceKind;
  format: string;
  timezone: string;
  country: string | null;
  voicemailNumbers: string[] | null;
  featureCodes: string[] | null;
  columns: string[] | null;
  /** asterisk-db: the switch database's URL, its password redacted unless read with sourceWithDsn. */
  dsn: string | null;
  table: string | null;
  dir: string | null;
  everySeconds: number;
  safetyWindowSeconds: number;
  maxLagSeconds: number;
  alertAfterFailures: number;
}

export interface SourceProgress {
  paused: boolean;
  createdAt: Date;
  watermark: string | null;
  watermarkTiebreak: string | null;
  lastRecordAt: Date | null;
  caughtUpAt: Date | null;
  lastRunAt: Date | null;
  rowsCollected: number;
  rowsRejected: number;
  duplicates: number;
  filesDone: number;
  filesFailed: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastRejectsFile: string | null;
  alertedAt: Date | null;
  alertsSent: number;
}

export type UsageSource = SourceSettings & SourceProgress;

export class SourceExistsError extends Error {}

const COLUMNS = `name, kind, format, timezone, country, voicemail_numbers, feature_codes, columns, dsn, cdr_table, dir,
  every_seconds, safety_window_seconds, max_lag_seconds, alert_after_failures, paused, created_at, watermark, watermark_tiebreak,
  last_record_at, caught_up_at, last_run_at, rows_collected, rows_rejected, duplicates, files_done, files_failed,
  consecutive_failures, last_error, last_error_at, last_rejects_file, alerted_at, alerts_sent`;

function fromRow(r: Record<string, unknown>, showDsn: boolean): UsageSource {
  return {
    name: r.name as string,
    kind: r.kind as SourceKind,
    format: r.format as string,
    timezone: r.timezone as string,
    country: r.country as string | null,
    voicemailNumbers: r.voicemail_numbers as string[] | null,
    featureCodes: r.feature_codes as string[] | null,
    columns: r.columns as string[] | null,
    dsn: r.dsn === null ? null : showDsn ? (r.dsn as string) : redactUrl(r.dsn as string),
    table: r.cdr_table as string | null,
    dir: r.dir as string | null,
    everySeconds: r.every_seconds as number,
    safetyWindowSeconds: r.safety_window_seconds as number,
    maxLagSeconds: r.max_lag_seconds as number,
    alertAfterFailures: r.alert_after_failures as number,
    paused: r.paused as boolean,
    createdAt: r.created_at as Date,
    watermark: r.watermark as string | null,
    watermarkTiebreak: r.watermark_tiebreak as string | null,
    lastRecordAt: r.last_record_at as Date | null,
    caughtUpAt: r.caught_up_at as Date | null,
    lastRunAt: r.last_run_at as Date | null,
    rowsCollected: Number(r.rows_collected),
    rowsRejected: Number(r.rows_rejected),
    duplicates: Number(r.duplicates),
    filesDone: r.files_done as number,
    filesFailed: r.files_failed as number,
    consecutiveFailures: r.consecutive_failures as number,
    lastError: r.last_error as string | null,
    lastErrorAt: r.last_error_at as Date | null,
    lastRejectsFile: r.last_rejects_file as string | null,
    alertedAt: r.alerted_at as Date | null,
    alertsSent: r.alerts_sent as number,
  };
}

export async function addSource(pool: Pool, s: SourceSettings): Promise<void> {
  try {
    await pool.query(
      `INSERT INTO usage_sources (name, kind, format, timezone, country, voicemail_numbers, feature_codes, columns, dsn, cdr_table, dir,
         every_seconds, safety_window_seconds, max_lag_seconds, alert_after_failures)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        s.name,
        s.kind,
        s.format,
        s.timezone,
        s.country,
        s.voicemailNumbers,
        s.featureCodes,
        s.columns,
        s.dsn,
        s.table,
        s.dir,
        s.everySeconds,
        s.safetyWindowSeconds,
        s.maxLagSeconds,
        s.alertAfterFailures,
      ],
    );
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new SourceExistsError(`source "${s.name}" exists already; see \`billing sources show ${s.name}\``);
    throw error;
  }
}

/** A source, its DSN's password redacted; undefined when there is none of that name. */
export async function getSource(db: Pool | PoolClient, name: string): Promise<UsageSource | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM usage_sources WHERE name = $1`, [name]);
  return rows[0] ? fromRow(rows[0], false) : undefined;
}

/** A source with its DSN in clear: for the collector's activity alone, never printed nor returned to a workflow. */
export async function sourceWithDsn(db: Pool | PoolClient, name: string): Promise<UsageSource | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM usage_sources WHERE name = $1`, [name]);
  return rows[0] ? fromRow(rows[0], true) : undefined;
}

export async function listSources(pool: Pool): Promise<UsageSource[]> {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM usage_sources ORDER BY name`);
  return rows.map((r) => fromRow(r, false));
}

export async function setSourcePaused(pool: Pool, name: string, paused: boolean): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE usage_sources SET paused = $2 WHERE name = $1', [name, paused]);
  return rowCount === 1;
}

export async function removeSource(pool: Pool, name: string): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM usage_sources WHERE name = $1', [name]);
  return rowCount === 1;
}

/** What one import of a collector (a page, a file) adds to its source's counters. */
export interface CollectedBatch {
  rows: number;
  rejected: number;
  duplicates: number;
  lastRecordAt: Date | null;
  rejectsFile: string | null;
  /** asterisk-db: the watermark after this page, when it moved forward. */
  watermark?: { value: string; tiebreak: string };
  fileDone?: boolean;
  fileFailed?: string;
}

export async function recordCollected(pool: Pool, name: string, batch: CollectedBatch): Promise<void> {
  await pool.query(
    `UPDATE usage_sources SET
       rows_collected = rows_collected + $2, rows_rejected = rows_rejected + $3, duplicates = duplicates + $4,
       last_record_at = GREATEST(last_record_at, $5::timestamptz),
       last_rejects_file = COALESCE($6, last_rejects_file),
       watermark = COALESCE($7, watermark), watermark_tiebreak = CASE WHEN $7::text IS NULL THEN watermark_tiebreak ELSE $8 END,
       files_done = files_done + $9, files_failed = files_failed + $10,
       last_error = CASE WHEN $11::text IS NULL THEN last_error ELSE $11 END,
       last_error_at = CASE WHEN $11::text IS NULL THEN last_error_at ELSE now() END
     WHERE name = $1`,
    [
      name,
      batch.rows,
      batch.rejected,
      batch.duplicates,
      batch.lastRecordAt,
      batch.rejectsFile,
      batch.watermark?.value ?? null,
      batch.watermark?.tiebreak ?? null,
      batch.fileDone ? 1 : 0,
      batch.fileFailed !== undefined ? 1 : 0,
      batch.fileFailed ?? null,
    ],
  );
}

/** A run that read everything there was (`caughtUpAt`: when it began reading) and failed nowhere. */
export async function recordRunSucceeded(pool: Pool, name: string, caughtUpAt: Date | null): Promise<void> {
  await pool.query(
    `UPDATE usage_sources SET last_run_at = now(), consecutive_failures = 0,
       caught_up_at = CASE WHEN $2::timestamptz IS NULL THEN caught_up_at ELSE GREATEST(caught_up_at, $2::timestamptz) END
     WHERE name = $1`,
    [name, caughtUpAt],
  );
}

export async function recordRunFailed(pool: Pool, name: string, message: string): Promise<void> {
  await pool.query(`UPDATE usage_sources SET last_run_at = now(), consecutive_failures = consecutive_failures + 1, last_error = $2, last_error_at = now() WHERE name = $1`, [
    name,
    message.slice(0, 2000),
  ]);
}

/** How far behind a source is: the time since a run last read everything there was (or since it was added). */
export function lagSeconds(source: Pick<UsageSource, 'caughtUpAt' | 'createdAt'>, nowMs: number): number {
  return Math.max(0, Math.round((nowMs - (source.caughtUpAt ?? source.createdAt).getTime()) / 1000));
}

/**
 * Whether ops are to be alerted about the source now: behind by more than its max lag, or failed
 * `alertAfterFailures` runs in a row. Returns the alert's outbox key (new or still current) and
 * whether it was queued now; clears the incident once the source is healthy again.
 */
export async function sourceIncident(
  pool: Pool,
  name: string,
  nowMs: number,
  queue: (client: PoolClient, key: string, source: UsageSource, why: string) => Promise<void>,
): Promise<{ key: string | null; queuedNow: boolean; source: UsageSource | undefined }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(`SELECT ${COLUMNS} FROM usage_sources WHERE name = $1 FOR UPDATE`, [name]);
    if (!rows[0]) {
      await client.query('ROLLBACK');
      return { key: null, queuedNow: false, source: undefined };
    }
    const source = fromRow(rows[0], false);
    const lag = lagSeconds(source, nowMs);
    const reasons: string[] = [];
    if (source.consecutiveFailures >= source.alertAfterFailures) reasons.push(`its last ${source.consecutiveFailures} collections failed (last: ${source.lastError ?? 'unknown'})`);
    if (!source.paused && lag > source.maxLagSeconds) reasons.push(`it is ${Math.round(lag / 60)} min behind (more than ${Math.round(source.maxLagSeconds / 60)} min)`);
    const incidentKey = (n: number): string => `usage-source-alert:${name}:${n}`;
    if (reasons.length === 0) {
      if (source.alertedAt !== null) await client.query('UPDATE usage_sources SET alerted_at = NULL WHERE name = $1', [name]);
      await client.query('COMMIT');
      return { key: null, queuedNow: false, source };
    }
    if (source.alertedAt !== null) {
      await client.query('COMMIT');
      return { key: incidentKey(source.alertsSent), queuedNow: false, source };
    }
    const key = incidentKey(source.alertsSent + 1);
    await queue(client, key, source, reasons.join('; '));
    await client.query('UPDATE usage_sources SET alerted_at = now(), alerts_sent = alerts_sent + 1 WHERE name = $1', [name]);
    await client.query('COMMIT');
    return { key, queuedNow: true, source: { ...source, alertedAt: new Date(nowMs), alertsSent: source.alertsSent + 1 } };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
