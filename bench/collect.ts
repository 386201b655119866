/**
 * `npm run bench -- collect [--rows 1000000] [--subscribers 10000] [--page-rows 50000]`: an
 * asterisk-db source's collector (db/usage-collect.ts, as the activity runs it) reading a switch's
 * cdr table of `--rows` rows in pages into a fresh billing database, beside a plain
 * `COPY (SELECT ...) TO STDOUT` of the same table in the same run: what reading the table costs at
 * least, before any classification, attribution or writing.
 */
import os from 'node:os';
import { Client, type Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { collectAsteriskDb } from '../db/usage-collect';
import { createPool } from '../db/pool';
import { addSource, sourceWithDsn } from '../db/usage-sources';
import { benchSubscribers } from './asterisk-generator';
import { option, perSecond, say, withDatabase } from './common';

const CDR_TABLE = `
CREATE TABLE cdr (
  calldate timestamp NOT NULL DEFAULT now(), clid varchar(80) NOT NULL DEFAULT '', src varchar(80) NOT NULL DEFAULT '',
  dst varchar(80) NOT NULL DEFAULT '', dcontext varchar(80) NOT NULL DEFAULT '', channel varchar(80) NOT NULL DEFAULT '',
  dstchannel varchar(80) NOT NULL DEFAULT '', lastapp varchar(80) NOT NULL DEFAULT '', lastdata varchar(80) NOT NULL DEFAULT '',
  duration integer NOT NULL DEFAULT 0, billsec integer NOT NULL DEFAULT 0, disposition varchar(45) NOT NULL DEFAULT '',
  amaflags integer NOT NULL DEFAULT 0, accountcode varchar(20) NOT NULL DEFAULT '', uniqueid varchar(150) NOT NULL DEFAULT '',
  userfield varchar(255) NOT NULL DEFAULT '', peeraccount varchar(20) NOT NULL DEFAULT '', linkedid varchar(150) NOT NULL DEFAULT '',
  sequence integer NOT NULL DEFAULT 0
);
CREATE INDEX cdr_calldate_idx ON cdr (calldate);`;

/** Rows as a busy switch writes them through October: 9 in 10 answered, a subscriber calling out or called. */
async function fillCdr(client: Client, rows: number, subscribers: number): Promise<void> {
  await client.query(
    `INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, uniqueid, linkedid, sequence)
    SELECT timestamp '2026-10-01 00:00:00' + (n * 2592000.0 / $1) * interval '1 second',
           '"" <' || a || '>', a, b, 'from-internal', 'PJSIP/' || a || '-' || to_hex(n), 'PJSIP/trunk-' || to_hex(n), 'Dial', 'PJSIP/trunk,60',
           (n % 600) + 5, CASE WHEN n % 10 = 0 THEN 0 ELSE n % 600 END, CASE WHEN n % 10 = 0 THEN 'NO ANSWER' ELSE 'ANSWERED' END, 3,
           '1700000000.' || n, '1700000000.' || n, n
      FROM generate_series(1, $1) AS n,
           LATERAL (SELECT '1212' || (5000000 + n % $2)::text AS a, CASE WHEN n % 3 = 0 THEN '1212' || (5000000 + (n * 7) % $2)::text ELSE '3314' || lpad((n % 1000000)::text, 7, '0') END AS b) p`,
    [rows, subscribers],
  );
  await client.query('ANALYZE cdr');
}

async function addSubscribers(pool: Pool, count: number): Promise<void> {
  const subscribers = benchSubscribers(count);
  await pool.query(`INSERT INTO subscribers (id, email, timezone, service_start) SELECT id, id || '@bench.test', 'UTC', '2026-01-01' FROM unnest($1::text[]) AS id`, [
    subscribers.map((s) => s.id),
  ]);
  await pool.query('INSERT INTO subscriber_numbers (number, subscriber_id) SELECT * FROM unnest($1::text[], $2::text[])', [
    subscribers.map((s) => s.number),
    subscribers.map((s) => s.id),
  ]);
}

/** A plain COPY of the table to this process, rows counted as they arrive. */
async function plainCopy(url: string, sql: string): Promise<{ rows: number; bytes: number; seconds: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const started = process.hrtime.bigint();
    let rows = 0;
    let bytes = 0;
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows += 1;
    }
    return { rows, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    await client.end();
  }
}

export async function benchCollect(): Promise<void> {
  const rows = option('rows', 1_000_000);
  const subscriberCount = option('subscribers', 10_000);
  const pageRows = option('page-rows', 50_000);
  await withDatabase(async (url) => {
    const switchName = `billing_bench_switch_${process.pid}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${switchName}`);
    const switchUrl = new URL(url);
    switchUrl.pathname = `/${switchName}`;
    const pool = createPool(url, 4);
    try {
      const pbx = new Client({ connectionString: switchUrl.toString() });
      await pbx.connect();
      say(`filling the switch's cdr table with ${rows.toLocaleString('en')} rows`);
      await pbx.query(CDR_TABLE);
      await fillCdr(pbx, rows, subscriberCount);
      await pbx.end();
      await addSubscribers(pool, subscriberCount);
      await addSource(pool, {
        name: 'bench-pbx',
        kind: 'asterisk-db',
        format: 'asterisk',
        timezone: 'UTC',
        country: 'US',
        voicemailNumbers: null,
        featureCodes: null,
        columns: null,
        dsn: switchUrl.toString(),
        table: 'cdr',
        dir: null,
        everySeconds: 300,
        safetyWindowSeconds: 3600,
        maxLagSeconds: 1800,
        alertAfterFailures: 3,
      });
      say('baseline: COPY (SELECT * FROM cdr ORDER BY calldate) TO STDOUT');
      const copy = await plainCopy(switchUrl.toString(), 'SELECT * FROM cdr ORDER BY calldate');
      say(`collecting in pages of ${pageRows.toLocaleString('en')} rows`);
      let pages = 0;
      const ctx = {
        pool,
        defaultCountry: 'US',
        onImported: async () => {
          pages += 1;
        },
        heartbeat: () => undefined,
      };
      const started = process.hrtime.bigint();
      const outcome = await collectAsteriskDb((await sourceWithDsn(pool, 'bench-pbx'))!, ctx, { pageRows, maxSeconds: 3600 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      say('collecting again: nothing new (the safety window of 1 h read again)');
      const againStarted = process.hrtime.bigint();
      const again = await collectAsteriskDb((await sourceWithDsn(pool, 'bench-pbx'))!, ctx, { pageRows, maxSeconds: 3600 });
      const againSeconds = Number(process.hrtime.bigint() - againStarted) / 1e9;
      const {
        rows: [landed],
      } = await pool.query(`SELECT count(*)::int AS n FROM cdr_records WHERE source = 'bench-pbx'`);
      const lines = [
        '',
        `collect benchmark: a cdr table of ${rows.toLocaleString('en')} rows, ${subscriberCount.toLocaleString('en')} subscribers, pages of ${pageRows.toLocaleString('en')}, ${os.cpus().length} cores, switch and billing databases on one PostgreSQL`,
        `  collector (page query + importer):  ${perSecond(outcome.rows, seconds)} rows/s  (${outcome.rows.toLocaleString('en')} rows in ${pages} pages, ${seconds.toFixed(1)} s; ${landed.n.toLocaleString('en')} records landed, ${outcome.rejected} rejected)`,
        `  next run, nothing new:               ${againSeconds.toFixed(2)} s  (${again.rows} rows of the safety window read again, ${again.duplicates} duplicates)`,
        `  baseline, plain COPY TO STDOUT:      ${perSecond(copy.rows, copy.seconds)} rows/s  (${copy.rows.toLocaleString('en')} rows, ${(copy.bytes / 1e6).toFixed(0)} MB in ${copy.seconds.toFixed(1)} s)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${switchName} WITH (FORCE)`);
      await admin.end();
    }
  });
}
