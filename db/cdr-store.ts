/**
 * Writes imported records in batches: COPY into session-private staging tables, then set-based
 * inserts of the records not seen before and their calls (a plain insert while batches are all
 * new, ON CONFLICT DO NOTHING once one was not). Each batch is one transaction, so an interrupted
 * import leaves whole batches and a rerun adds only the rest.
 */
import type { Pool, PoolClient } from 'pg';
import type { CdrRecord } from '../billing/cdr/types';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export interface StagedCall {
  key: string;
  subscriberId: string;
  direction: 'outgoing' | 'incoming';
  segment: number;
  period: string;
  startedMs: number;
  billableSeconds: number;
  counted: boolean;
  notCountedReason: string | null;
  /** The whole call's billable seconds: a staged call is one share of a call split at a month boundary. */
  callSeconds: number;
  /** Whether this is the call's last share, which takes its rounding. */
  finalSegment: boolean;
}

export interface BatchResult {
  staged: number;
  /** Records not seen before; the rest were already imported. */
  inserted: number;
  /** Call rows for months already invoiced. */
  lateCalls: number;
}

/** A text value in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
    }
  }
  return value;
}

/**
 * A record key's text (DESIGN, "Idempotence"): a uuid of 48 bits of the call's start time (see
 * keyTime in usage-import.ts) and the first 80 bits of the row's md5 in hex, its time written a
 * byte at a time (toString(16) and padStart cost more).
 */
export function keyText(time: number, digest: string): string {
  const high = Math.floor(time / 4_294_967_296);
  const low = time >>> 0;
  return (
    HEX_BYTES[high >>> 8]! +
    HEX_BYTES[high & 255] +
    HEX_BYTES[low >>> 24] +
    HEX_BYTES[(low >>> 16) & 255] +
    '-' +
    HEX_BYTES[(low >>> 8) & 255] +
    HEX_BYTES[low & 255] +
    '-' +
    digest.slice(0, 4) +
    '-' +
    digest.slice(4, 8) +
    '-' +
    digest.slice(8, 20)
  );
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const HEX_DIGITS = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
const DASH = 45;
const TAB = 9;
const NEWLINE = 10;

/** Writes a byte as two hex digits at `at`; returns the position after them. */
function hexByte(buffer: Buffer, at: number, byte: number): number {
  buffer[at] = HEX_DIGITS[byte >>> 4]!;
  buffer[at + 1] = HEX_DIGITS[byte & 15]!;
  return at + 2;
}

/** Room a number takes at most in COPY text (String of any number). */
const ROW_NUMBER_BYTES = 24;

/**
 * The 1 MiB buffers of an import's batches, reused once a batch's COPY is done. A buffer the
 * process allocates is memory outside the JavaScript heap, and every 64 MiB or so of it made V8
 * run a full mark-compact: with a new buffer for every MiB of COPY text, a million-row import ran
 * about 40 of them (`--trace-gc`).
 */
export class CopyBufferPool {
  static readonly SIZE = 1 << 20;
  private readonly spare: Buffer[] = [];

  /** @param keep how many spare buffers to hold at most: enough for the batches in flight. */
  constructor(private readonly keep = 32) {}

  take(minimum: number): Buffer {
    if (minimum <= CopyBufferPool.SIZE) return this.spare.pop() ?? Buffer.allocUnsafe(CopyBufferPool.SIZE);
    return Buffer.allocUnsafe(minimum);
  }

  give(buffers: Buffer[]): void {
    for (const buffer of buffers) {
      if (this.spare.length >= this.keep) return;
      if (buffer.length === CopyBufferPool.SIZE) this.spare.push(buffer);
    }
  }
}

/**
 * COPY text gathered straight into buffers of 1 MiB. Each row's text is a short-lived string
 * written out at once, so nothing of a row outlives it on the JavaScript heap: a batch held for
 * the database is bytes, not thousands of strings for the garbage collector to keep moving.
 */
class CopyBuffers {
  /** The text of the buffers filled, and those buffers whole (for the pool). */
  private readonly done: Buffer[] = [];
  private readonly filled: Buffer[] = [];
  private current: Buffer;
  private used = 0;

  constructor(private readonly pool: CopyBufferPool) {
    this.current = pool.take(CopyBufferPool.SIZE);
  }

  add(text: string): void {
    // UTF-8 takes at most 3 bytes for each UTF-16 unit
    this.reserve(text.length * 3);
    this.used += this.current.write(text, this.used);
  }

  /** Makes room for `bytes` more in the current buffer. */
  reserve(bytes: number): void {
    if (this.used + bytes > this.current.length) {
      if (this.used > 0) {
        this.done.push(this.current.subarray(0, this.used));
        this.filled.push(this.current);
      } else this.pool.give([this.current]);
      this.current = this.pool.take(bytes);
      this.used = 0;
    }
  }

  // The writers below fill a row a value at a time, in room reserved for the row (at most 3
  // bytes a UTF-16 unit of its text, ROW_NUMBER_BYTES a number, 1 a tab): no string is built
  // for the row. ASCII is copied a byte at a time; anything else goes through Buffer.write.

  /** A text value as copyText writes it. */
  text(value: string | null): void {
    if (value === null) return this.ascii('\\N');
    const buffer = this.current;
    let at = this.used;
    for (let i = 0; i < value.length; i += 1) {
      const c = value.charCodeAt(i);
      if (c >= 128 || c === 92 || c === 9 || c === 10 || c === 13) {
        this.used += buffer.write(copyText(value), this.used);
        return;
      }
      buffer[at++] = c;
    }
    this.used = at;
  }

  /** A value written as it is (a known word, a period, \N), as a template literal would. */
  ascii(value: string): void {
    const buffer = this.current;
    let at = this.used;
    for (let i = 0; i < value.length; i += 1) {
      const c = value.charCodeAt(i);
      if (c >= 128) {
        this.used += buffer.write(value, this.used);
        return;
      }
      buffer[at++] = c;
    }
    this.used = at;
  }

  /** A number as String(value) writes it. */
  number(value: number): void {
    if (!(Number.isSafeInteger(value) && value >= 0)) return this.ascii(String(value));
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    const buffer = this.current;
    let at = this.used + digits;
    this.used = at;
    let rest = value;
    do {
      const next = Math.floor(rest / 10);
      buffer[--at] = 48 + (rest - next * 10);
      rest = next;
    } while (rest > 0);
  }

  byte(code: number): void {
    this.current[this.used++] = code;
  }

  /** A record key as keyText writes it: no string is made for it. */
  key(time: number, digest: string): void {
    const buffer = this.current;
    let at = this.used;
    const high = Math.floor(time / 4_294_967_296);
    const low = time >>> 0;
    at = hexByte(buffer, at, high >>> 8);
    at = hexByte(buffer, at, high & 255);
    at = hexByte(buffer, at, low >>> 24);
    at = hexByte(buffer, at, (low >>> 16) & 255);
    buffer[at++] = DASH;
    at = hexByte(buffer, at, (low >>> 8) & 255);
    at = hexByte(buffer, at, low & 255);
    for (let i = 0; i < 20; i += 1) {
      if (i === 0 || i === 4 || i === 8) buffer[at++] = DASH;
      buffer[at++] = digest.charCodeAt(i);
    }
    this.used = at;
  }

  stream(): Readable {
    return Readable.from(this.used > 0 ? [...this.done, this.current.subarray(0, this.used)] : this.done);
  }

  /** Hands the buffers back to the pool: only once the COPY that read them is over. */
  recycle(): void {
    this.pool.give(this.filled);
    this.pool.give([this.current]);
    this.done.length = 0;
    this.filled.length = 0;
    this.used = 0;
  }
}

export class StagingBatch {
  records = 0;
  calls = 0;
  readonly periods = new Set<string>();
  private readonly recordLines: CopyBuffers;
  private readonly callLines: CopyBuffers;

  constructor(pool: CopyBufferPool = new CopyBufferPool(0)) {
    this.recordLines = new CopyBuffers(pool);
    this.callLines = new CopyBuffers(pool);
  }

  /**
   * A record with the subscribers of its two sides, and the month of each side's share when it
   * lies in one month in their zone: the set-based insert derives that call row from the record
   * itself. A share split at a month boundary has null here and comes through addCall, a row a month.
   */
  addRecord(r: CdrRecord, key: { time: number; digest: string }, callerId: string | null, calleeId: string | null, callerPeriod: string | null, calleePeriod: string | null): void {
    this.records += 1;
    // Written a value at a time into the COPY buffer: a template literal of the row built a chain
    // of some 30 strings a record, then a copy of it, before the buffer had its bytes.
    const out = this.recordLines;
    const texts =
      textLength(r.callingNumber) +
      textLength(r.calledNumber) +
      textLength(r.accountCode) +
      textLength(r.subscriberId ?? null) +
      textLength(r.direction ?? null) +
      textLength(r.notCountedReason) +
      textLength(callerId) +
      textLength(calleeId) +
      textLength(callerPeriod) +
      textLength(calleePeriod);
    // the key, four numbers, the texts, t or f, 15 tabs and the newline
    out.reserve(36 + 4 * ROW_NUMBER_BYTES + 3 * texts + 1 + 16);
    out.key(key.time, key.digest);
    out.byte(TAB);
    out.number(r.line);
    out.byte(TAB);
    out.number(r.startMs);
    out.byte(TAB);
    if (r.answerMs === null) out.ascii('\\N');
    else out.number(r.answerMs);
    out.byte(TAB);
    out.number(r.billableSeconds);
    out.byte(TAB);
    out.text(r.callingNumber);
    out.byte(TAB);
    out.text(r.calledNumber);
    out.byte(TAB);
    out.text(r.accountCode);
    out.byte(TAB);
    out.text(r.subscriberId ?? null);
    out.byte(TAB);
    out.ascii(r.direction ?? '\\N');
    out.byte(TAB);
    out.ascii(r.counted ? 't' : 'f');
    out.byte(TAB);
    out.ascii(r.notCountedReason ?? '\\N');
    out.byte(TAB);
    out.text(callerId);
    out.byte(TAB);
    out.text(calleeId);
    out.byte(TAB);
    out.ascii(callerPeriod ?? '\\N');
    out.byte(TAB);
    out.ascii(calleePeriod ?? '\\N');
    out.byte(NEWLINE);
    if (callerPeriod) this.periods.add(callerPeriod);
    if (calleePeriod) this.periods.add(calleePeriod);
  }

  addCall(c: StagedCall): void {
    this.calls += 1;
    this.periods.add(c.period);
    this.callLines.add(
      `${c.key}\t${copyText(c.subscriberId)}\t${c.direction}\t${c.segment}\t${c.period}\t${c.startedMs}\t${c.billableSeconds}\t${c.counted ? 't' : 'f'}\t${c.notCountedReason ?? '\\N'}\t${c.callSeconds}\t${c.finalSegment ? 't' : 'f'}\n`,
    );
  }

  recordsCopy(): Readable {
    return this.recordLines.stream();
  }

  callsCopy(): Readable {
    return this.callLines.stream();
  }

  /** Gives the batch's buffers back to its pool, once its COPY statements are over; the batch is not used again. */
  recycle(): void {
    this.recordLines.recycle();
    this.callLines.recycle();
  }
}

/** The UTF-16 length of a text value, 2 for null (\N); an escaped character takes 2 bytes, within the 3 reserved for it. */
function textLength(value: string | null): number {
  return value === null ? 2 : value.length;
}

/** Epoch milliseconds to timestamptz in integer arithmetic: to_timestamp(ms / 1000.0) goes through numeric. */
const EPOCH = "timestamptz 'epoch'";
const MS = "interval '1 millisecond'";

/** The staged records as cdr_records rows ($1 import id, $2 source, $3 format). */
const RECORDS_FROM_STAGE = `(record_key, import_id, source, format, line, started_at, answered_at,
    billable_seconds, calling_number, called_number, account_code, named_subscriber_id, named_direction,
    counted, not_counted_reason, caller_subscriber_id, callee_subscriber_id)
  SELECT record_key, $1, $2, $3, line, ${EPOCH} + started_ms * ${MS}, ${EPOCH} + answered_ms * ${MS},
    billable_seconds, calling_number, called_number, account_code, named_subscriber_id, named_direction,
    counted, not_counted_reason, caller_subscriber_id, callee_subscriber_id
    FROM stage_records
    -- keys taken in one order by every batch, so concurrent ones wait but never deadlock
    ORDER BY record_key`;

/**
 * The staged records' calls as calls rows: a share within one month derived from the record
 * itself, split shares as staged; late when the month is already invoiced. With `onlyNewRecords`,
 * only the calls of the records the statement's `new_records` inserted.
 */
function callsFromStage(onlyNewRecords: boolean): string {
  return `(record_key, subscriber_id, direction, segment, period, started_at, billable_seconds,
    counted, not_counted_reason, late, call_seconds, final_segment)
  SELECT s.record_key, s.subscriber_id, s.direction, s.segment, s.period, ${EPOCH} + s.started_ms * ${MS},
    s.billable_seconds, s.counted, s.not_counted_reason, i.id IS NOT NULL, s.call_seconds, s.final_segment
    FROM (SELECT record_key, caller_subscriber_id AS subscriber_id, 'outgoing' AS direction, 0::smallint AS segment, caller_period AS period,
                 coalesce(answered_ms, started_ms) AS started_ms, billable_seconds, counted, not_counted_reason,
                 NULL::integer AS call_seconds, true AS final_segment
            FROM stage_records WHERE caller_period IS NOT NULL
          UNION ALL
          SELECT record_key, callee_subscriber_id, 'incoming', 0::smallint, callee_period,
                 coalesce(answered_ms, started_ms), billable_seconds, counted, not_counted_reason, NULL::integer, true
            FROM stage_records WHERE callee_period IS NOT NULL
          UNION ALL
          SELECT record_key, subscriber_id, direction, segment, period, started_ms, billable_seconds, counted, not_counted_reason,
                 call_seconds, final_segment
            FROM stage_calls) s
    ${onlyNewRecords ? 'JOIN new_records USING (record_key)' : ''}
    LEFT JOIN invoices i ON i.subscriber_id = s.subscriber_id AND i.period = s.period
    -- in the order of the calls_subscriber index, whose inserts cost most of the statement: one
    -- subscriber's calls go into the same index page one after the other (byte order sorts fastest)
    ORDER BY s.subscriber_id COLLATE "C"`;
}

const partitionsKnown = new Set<string>();

/** Creates the month partitions of `calls` that a batch needs (DESIGN, "Growing past one machine"). */
export async function ensureCallPartitions(pool: Pool, periods: Iterable<string>): Promise<void> {
  const missing = [...new Set(periods)].filter((p) => !partitionsKnown.has(p));
  if (missing.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('calls partitions'))");
    for (const period of missing) {
      if (!/^\d{4}-\d{2}$/.test(period)) throw new Error(`bad period ${period}`);
      await client.query(`CREATE TABLE IF NOT EXISTS calls_${period.replace('-', '_')} PARTITION OF calls FOR VALUES IN ('${period}')`);
    }
    await client.query('COMMIT');
    missing.forEach((p) => partitionsKnown.add(p));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function ignoreConnectionError(): void {
  // the failed query reports it
}

/** One connection of an import, with its own staging tables. */
class Lane {
  broken = false;
  constructor(readonly client: PoolClient) {}
}

export class CdrStore {
  private readonly idle: Lane[];
  /** Buffers for the batches in flight and the one being gathered: 8 MiB of COPY text a batch of 50,000 records. */
  private readonly buffers = new CopyBufferPool(32);

  private constructor(
    private readonly pool: Pool,
    private readonly lanes: Lane[],
    readonly importId: number,
    private readonly meta: { source: string; format: string },
  ) {
    this.idle = [...lanes];
  }

  /**
   * `lanes` connections let that many batches be in the database at once, so PostgreSQL can use
   * a second core while this process reads the next batch.
   */
  static async open(pool: Pool, meta: { source: string; file: string; format: string; timezone: string }, lanes = 2): Promise<CdrStore> {
    const { rows } = await pool.query('INSERT INTO usage_imports (source, file, format, timezone) VALUES ($1, $2, $3, $4) RETURNING id', [
      meta.source,
      meta.file,
      meta.format,
      meta.timezone,
    ]);
    const opened: Lane[] = [];
    try {
      for (let i = 0; i < lanes; i += 1) {
        const client = await pool.connect();
        // Held for the whole import: a connection lost between batches must fail the next batch,
        // not end the process with an unhandled error event.
        client.on('error', ignoreConnectionError);
        opened.push(new Lane(client));
        await client.query(`CREATE TEMP TABLE IF NOT EXISTS stage_records (
          record_key uuid, line integer, started_ms bigint, answered_ms bigint, billable_seconds integer,
          calling_number text, called_number text, account_code text, named_subscriber_id text,
          named_direction text, counted boolean, not_counted_reason text, caller_subscriber_id text,
          callee_subscriber_id text, caller_period text, callee_period text) ON COMMIT DELETE ROWS`);
        await client.query(`CREATE TEMP TABLE IF NOT EXISTS stage_calls (
          record_key uuid, subscriber_id text, direction text, segment smallint, period text,
          started_ms bigint, billable_seconds integer, counted boolean, not_counted_reason text,
          call_seconds integer, final_segment boolean) ON COMMIT DELETE ROWS`);
      }
    } catch (error) {
      for (const lane of opened) {
        lane.client.off('error', ignoreConnectionError);
        lane.client.release(true);
      }
      throw error;
    }
    return new CdrStore(pool, opened, Number(rows[0].id), meta);
  }

  /** An empty batch whose buffers come from this import's pool (and go back to it once written). */
  newBatch(): StagingBatch {
    return new StagingBatch(this.buffers);
  }

  /** How many batches may be written at once. */
  get concurrency(): number {
    return this.lanes.length;
  }

  /** Whether the last batch was all new records: then the next one tries the plain insert first. */
  private lastBatchAllNew = true;

  async writeBatch(batch: StagingBatch): Promise<BatchResult> {
    if (batch.records === 0) return { staged: 0, inserted: 0, lateCalls: 0 };
    await ensureCallPartitions(this.pool, batch.periods);
    const lane = this.idle.pop();
    if (!lane) throw new Error(`more than ${this.lanes.length} batches written at once`);
    const c = lane.client;
    const params = [this.importId, this.meta.source, this.meta.format];
    try {
      // A batch's commit does not wait for its WAL to reach disk: finish() commits synchronously,
      // which flushes every batch before it, so an import that reports success is durable, and one
      // cut short by a crash of the server is rerun like any interrupted import.
      await c.query('BEGIN; SET LOCAL synchronous_commit = off');
      await pipeline(batch.recordsCopy(), c.query(copyFrom('COPY stage_records FROM STDIN')));
      if (batch.calls > 0) await pipeline(batch.callsCopy(), c.query(copyFrom('COPY stage_calls FROM STDIN')));
      batch.recycle();
      let result: { inserted: number; lateCalls: number } | undefined;
      if (this.lastBatchAllNew) {
        // Most batches are all new records: a plain insert of all of them, and their calls with no
        // need to know which records were new, costs PostgreSQL a fifth less than the statement
        // below. A record already there ends it with a unique violation, and the statement below
        // runs instead, from the savepoint.
        await c.query('SAVEPOINT all_new');
        try {
          const records = await c.query(`INSERT INTO cdr_records ${RECORDS_FROM_STAGE}`, params);
          const calls = await c.query(`WITH new_calls AS (INSERT INTO calls ${callsFromStage(false)} RETURNING late)
            SELECT count(*)::int AS late_calls FROM new_calls WHERE late`);
          result = { inserted: records.rowCount ?? 0, lateCalls: calls.rows[0].late_calls };
        } catch (error) {
          if ((error as { code?: string; constraint?: string }).constraint !== 'cdr_records_pkey') throw error;
          await c.query('ROLLBACK TO SAVEPOINT all_new');
        }
      }
      if (!result) {
        const { rows } = await c.query(
          `WITH new_records AS (
             INSERT INTO cdr_records ${RECORDS_FROM_STAGE}
             ON CONFLICT (record_key) DO NOTHING
             RETURNING record_key
           ), new_calls AS (
             INSERT INTO calls ${callsFromStage(true)}
             RETURNING late
           )
           SELECT (SELECT count(*)::int FROM new_records) AS inserted,
                  (SELECT count(*)::int FROM new_calls WHERE late) AS late_calls`,
          params,
        );
        result = { inserted: rows[0].inserted, lateCalls: rows[0].late_calls };
      }
      await c.query('COMMIT');
      this.lastBatchAllNew = result.inserted === batch.records;
      return { staged: batch.records, ...result };
    } catch (error) {
      await c.query('ROLLBACK').catch(() => {
        lane.broken = true;
      });
      throw error;
    } finally {
      this.idle.push(lane);
    }
  }

  /** Records the import as finished; a synchronous commit, so every batch before it is on disk too. */
  async finish(summary: unknown): Promise<void> {
    await this.pool.query('UPDATE usage_imports SET finished_at = now(), summary = $2 WHERE id = $1', [this.importId, JSON.stringify(summary)]);
  }

  release(): void {
    for (const lane of this.lanes) {
      lane.client.off('error', ignoreConnectionError);
      lane.client.release(lane.broken);
    }
  }
}
