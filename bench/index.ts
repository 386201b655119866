/**
 * `npm run bench -- <name>`: performance figures measured on this machine, each beside a baseline
 * measured in the same run (DESIGN, "Targets").
 *   import  [--rows 1000000] [--subscribers 10000]   CDR import vs row-by-row INSERTs
 *   close   [--subscribers 10000] [--service-start 2026-10-01] [--activity-slots 50]
 *                                                    month close on the dev server vs one SQL rating
 *   cli     [--runs 7]                               billing --help and two queries as processes vs node -e 0, temporal --help
 *   preview [--subscribers 10000] [--calls 30]       the policy impact preview of three closed months vs reading them per subscriber
 *   collect [--rows 1000000] [--subscribers 10000] [--page-rows 50000]
 *                                                    an asterisk-db collector reading a cdr table vs a plain COPY TO STDOUT of it
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { parse } from 'csv-parse/sync';
import { attribute } from '../billing/cdr/attribution';
import { AsteriskReader } from '../billing/cdr/asterisk';
import { createPool } from '../db/pool';
import { loadDirectory } from '../db/directory';
import { recordKey } from '../db/usage-import';
import { benchSubscribers, writeAsteriskFile, type GeneratedSubscriber } from './asterisk-generator';
import { benchClose } from './close';
import { benchCli } from './cli';
import { benchPolicyPreview } from './policy-preview';
import { benchCollect } from './collect';
import { option, perSecond, say, withDatabase } from './common';

async function addSubscribers(pool: Pool, subscribers: GeneratedSubscriber[]): Promise<void> {
  await pool.query(`INSERT INTO subscribers (id, email, timezone, service_start) SELECT id, id || '@bench.test', 'UTC', '2026-01-01' FROM unnest($1::text[]) AS id`, [
    subscribers.map((s) => s.id),
  ]);
  await pool.query('INSERT INTO subscriber_numbers (number, subscriber_id) SELECT * FROM unnest($1::text[], $2::text[])', [
    subscribers.map((s) => s.number),
    subscribers.map((s) => s.id),
  ]);
}

/** The import runs with its heap capped: were its memory to grow with the file, it would fail. */
export const HEAP_CAP_MB = 256;

function importInChildProcess(url: string, file: string, source: string): Record<string, number> {
  const output = execFileSync(
    process.execPath,
    ['--max-semi-space-size=64', `--max-old-space-size=${HEAP_CAP_MB}`, '-r', 'tsx/cjs', path.join(__dirname, 'import-once.ts'), url, file, source],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  return JSON.parse(output.trim().split('\n').pop()!);
}

/** The naive way: every row parsed, classified and attributed the same, then one INSERT per row. */
async function rowByRow(pool: Pool, file: string, sampleRows: number): Promise<{ rows: number; seconds: number }> {
  const text = fs.readFileSync(file, 'utf8').split('\n').slice(0, sampleRows).join('\n');
  const reader = new AsteriskReader({ timezone: 'UTC' });
  const directory = await loadDirectory(pool);
  const parsed = parse(text, { relax_column_count: true, raw: true, info: true }) as unknown as { record: string[]; raw: string; info: { lines: number } }[];
  const records = parsed.flatMap((p) => reader.push(p.record, p.info.lines, p.raw.trimEnd()));
  records.push(...reader.flush());
  const client = await pool.connect();
  const {
    rows: [imp],
  } = await client.query("INSERT INTO usage_imports (source, file, format, timezone) VALUES ('naive', $1, 'asterisk', 'UTC') RETURNING id", [file]);
  const started = process.hrtime.bigint();
  let n = 0;
  for (const result of records) {
    if (!result.ok) continue;
    const r = result.record;
    const sides = attribute(r, directory);
    await client.query(
      `INSERT INTO cdr_records (record_key, import_id, source, format, line, started_at, answered_at, billable_seconds, calling_number,
         called_number, account_code, counted, not_counted_reason, caller_subscriber_id, callee_subscriber_id)
       VALUES ($1, $2, 'naive', 'asterisk', $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0), $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT DO NOTHING`,
      [
        recordKey('naive', `${n}:${r.raw}`, r.startMs),
        imp.id,
        r.line,
        r.startMs,
        r.answerMs,
        r.billableSeconds,
        r.callingNumber,
        r.calledNumber,
        r.accountCode,
        r.counted,
        r.notCountedReason,
        sides.find((s) => s.direction === 'outgoing')?.subscriberId ?? null,
        sides.find((s) => s.direction === 'incoming')?.subscriberId ?? null,
      ],
    );
    n += 1;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  client.release();
  return { rows: n, seconds };
}

async function benchImport(): Promise<void> {
  const rows = option('rows', 1_000_000);
  const subscriberCount = option('subscribers', 10_000);
  const subscribers = benchSubscribers(subscriberCount);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-files-'));
  try {
    const file = path.join(dir, 'Master.csv');
    const small = path.join(dir, 'Master-small.csv');
    say(`generating ${rows.toLocaleString('en')} Asterisk rows (18 columns) for ${subscriberCount.toLocaleString('en')} subscribers`);
    await writeAsteriskFile(file, { rows, subscribers, period: '2026-10' });
    await writeAsteriskFile(small, { rows: Math.max(1, Math.floor(rows / 10)), subscribers, period: '2026-09', seed: 7 });
    const mb = (fs.statSync(file).size / 1e6).toFixed(0);
    await withDatabase(async (url) => {
      const pool = createPool(url, 4);
      try {
        await addSubscribers(pool, subscribers);
        say('importing the small file (a tenth of the rows) for the memory comparison');
        const smallRun = importInChildProcess(url, small, 'bench-small');
        say(`importing ${mb} MB`);
        const full = importInChildProcess(url, file, 'bench');
        say('importing the same file again (every row a duplicate)');
        const again = importInChildProcess(url, file, 'bench');
        const sample = Math.min(20_000, rows);
        say(`baseline: row-by-row INSERTs of a ${sample.toLocaleString('en')}-row sample`);
        const naive = await rowByRow(pool, file, sample);
        const lines = [
          '',
          `import benchmark: ${rows.toLocaleString('en')} Asterisk rows (${mb} MB), ${subscriberCount.toLocaleString('en')} subscribers, ${os.cpus().length} cores`,
          `  import (COPY + set-based insert):   ${perSecond(full.rowsRead!, full.seconds!)} rows/s  (${full.seconds!.toFixed(1)} s; peak memory ${full.maxRssMb} MB)`,
          `    counted ${full.counted}, duplicates ${full.duplicates}, unmatched ${full.unmatched}, rejected ${full.rejected}`,
          `  same file again (all duplicates):   ${perSecond(again.rowsRead!, again.seconds!)} rows/s  (${again.seconds!.toFixed(1)} s; ${again.duplicates} duplicates)`,
          `  a tenth of the rows:                ${perSecond(smallRun.rowsRead!, smallRun.seconds!)} rows/s  (peak memory ${smallRun.maxRssMb} MB)`,
          `  memory: every import above ran with its heap capped at ${HEAP_CAP_MB} MB (node --max-old-space-size), whatever the file's size`,
          `  baseline, row-by-row INSERT:        ${perSecond(naive.rows, naive.seconds)} rows/s  (${naive.rows.toLocaleString('en')} rows in ${naive.seconds.toFixed(1)} s)`,
          `  target: 100,000 rows/s`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await pool.end();
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const benches: Record<string, () => Promise<void>> = { import: benchImport, close: benchClose, cli: benchCli, preview: benchPolicyPreview, collect: benchCollect };

const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(2);
}
bench().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
