/**
 * Attributes records that matched nobody when they were imported, once their number, account
 * code or subscriber is registered (DESIGN, "Who": "attributed when the number or subscriber is
 * registered later"). Each record is claimed in the same transaction that inserts its calls, so
 * concurrent rematches never attribute a record twice.
 */
import type { CountryCode } from 'libphonenumber-js';
import type { Pool, PoolClient } from 'pg';
import { attribute, segmentsFor, type Directory } from '../billing/cdr/attribution';
import type { CdrRecord, NotCountedReason } from '../billing/cdr/types';
import { ensureCallPartitions } from './cdr-store';
import { loadDirectory } from './directory';

export interface RematchSummary {
  /** Unmatched records whose number, account code or subscriber is now registered. */
  examined: number;
  attributed: number;
  stillUnmatched: number;
  touched: { subscriberId: string; period: string }[];
}

const PAGE = 2_000;

/** What one page attributed, for `onPage`. */
export interface RematchPage {
  examined: number;
  attributed: number;
  touched: { subscriberId: string; period: string }[];
}

/**
 * `onPage` runs in each page's transaction, before it commits: a caller that must know what was
 * attributed after a crash half way (`usage-rematch-<n>`) records it there, with the claims.
 */
export async function rematchUnmatched(pool: Pool, options: { onPage?: (client: PoolClient, page: RematchPage) => Promise<void> } = {}): Promise<RematchSummary> {
  const directoryOf = await directoriesBySource(pool);
  const summary: RematchSummary = { examined: 0, attributed: 0, stillUnmatched: 0, touched: [] };
  const touched = new Set<string>();
  let cursor = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await pool.query(
      `SELECT record_key, source, format, line, extract(epoch FROM started_at) * 1000 AS started_ms,
              extract(epoch FROM answered_at) * 1000 AS answered_ms, billable_seconds, calling_number, called_number,
              account_code, named_subscriber_id, named_direction, counted, not_counted_reason
         FROM cdr_records
        WHERE caller_subscriber_id IS NULL AND callee_subscriber_id IS NULL AND record_key > $1
          -- only records someone registered since could claim: the rest stay waiting. Numbers are
          -- compared by their last 7 digits (billing/numbers.ts, numberTail), as records keep them
          -- as the switch wrote them: the directory decides on the normalised number.
          AND (right(regexp_replace(calling_number, '[^0-9]', '', 'g'), 7) IN (SELECT right(regexp_replace(number, '[^0-9]', '', 'g'), 7) FROM subscriber_numbers)
               OR right(regexp_replace(called_number, '[^0-9]', '', 'g'), 7) IN (SELECT right(regexp_replace(number, '[^0-9]', '', 'g'), 7) FROM subscriber_numbers)
               OR calling_number IN (SELECT number FROM subscriber_numbers)
               OR called_number IN (SELECT number FROM subscriber_numbers)
               OR account_code IN (SELECT account_code FROM subscribers WHERE account_code IS NOT NULL)
               OR named_subscriber_id IN (SELECT id FROM subscribers))
        ORDER BY record_key LIMIT $2`,
      [cursor, PAGE],
    );
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1].record_key;
    summary.examined += rows.length;
    const client = await pool.connect();
    const page: RematchPage = { examined: rows.length, attributed: 0, touched: [] };
    const touchedInPage = new Set<string>();
    try {
      await client.query('BEGIN');
      for (const row of rows) {
        const record: CdrRecord = {
          format: row.format,
          line: row.line,
          raw: '',
          startMs: Number(row.started_ms),
          answerMs: row.answered_ms === null ? null : Number(row.answered_ms),
          endMs: Number(row.started_ms),
          billableSeconds: row.billable_seconds,
          callingNumber: row.calling_number,
          calledNumber: row.called_number,
          accountCode: row.account_code,
          counted: row.counted,
          notCountedReason: row.not_counted_reason as NotCountedReason | null,
          ...(row.named_subscriber_id ? { subscriberId: row.named_subscriber_id, direction: row.named_direction } : {}),
        };
        const sides = attribute(record, await directoryOf(row.source));
        if (sides.length === 0) continue;
        const claimed = await client.query(
          `UPDATE cdr_records SET caller_subscriber_id = $2, callee_subscriber_id = $3
            WHERE record_key = $1 AND caller_subscriber_id IS NULL AND callee_subscriber_id IS NULL`,
          [row.record_key, sides.find((s) => s.direction === 'outgoing')?.subscriberId ?? null, sides.find((s) => s.direction === 'incoming')?.subscriberId ?? null],
        );
        if (claimed.rowCount !== 1) continue;
        for (const side of sides) {
          const segments = segmentsFor(record, side.party);
          await ensureCallPartitions(
            pool,
            segments.map((s) => s.period),
          );
          for (const [index, segment] of segments.entries()) {
            await client.query(
              `INSERT INTO calls (record_key, subscriber_id, direction, segment, period, started_at, billable_seconds, counted, not_counted_reason, late,
                                  call_seconds, final_segment)
               VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), $7, $8, $9,
                       EXISTS (SELECT 1 FROM invoices WHERE subscriber_id = $2 AND period = $5), $10, $11)`,
              [
                row.record_key,
                side.subscriberId,
                side.direction,
                index,
                segment.period,
                segment.startMs,
                segment.seconds,
                record.counted,
                record.notCountedReason,
                segments.length > 1 ? record.billableSeconds : null,
                index === segments.length - 1,
              ],
            );
            touched.add(`${side.subscriberId}\u0000${segment.period}`);
            touchedInPage.add(`${side.subscriberId}\u0000${segment.period}`);
          }
        }
        summary.attributed += 1;
        page.attributed += 1;
      }
      page.touched = pairsOf(touchedInPage);
      await options.onPage?.(client, page);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  const {
    rows: [left],
  } = await pool.query('SELECT count(*)::int AS n FROM cdr_records WHERE caller_subscriber_id IS NULL AND callee_subscriber_id IS NULL');
  summary.stillUnmatched = left.n;
  summary.touched = pairsOf(touched);
  return summary;
}

/**
 * The directory to attribute a record of each source with: numbers written without a country code
 * are read in the country of the source that wrote them (`billing sources add --country`), as the
 * import read them, else in BILLING_DEFAULT_COUNTRY. One directory a country.
 */
async function directoriesBySource(pool: Pool): Promise<(source: string) => Promise<Directory>> {
  const { rows } = await pool.query('SELECT name, country FROM usage_sources WHERE country IS NOT NULL');
  const countryOf = new Map(rows.map((r) => [r.name as string, r.country as CountryCode]));
  const byCountry = new Map<string, Promise<Directory>>();
  return (source) => {
    const country = countryOf.get(source);
    const key = country ?? '';
    let directory = byCountry.get(key);
    if (!directory) byCountry.set(key, (directory = loadDirectory(pool, country ? { country } : {})));
    return directory;
  };
}

function pairsOf(touched: Set<string>): { subscriberId: string; period: string }[] {
  return [...touched].map((t) => {
    const [subscriberId, period] = t.split('\u0000') as [string, string];
    return { subscriberId, period };
  });
}
