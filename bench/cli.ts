/**
 * `npm run bench -- cli [--runs 7]`: the CLI's start-up and a query's answer, each command a whole
 * process as a person runs it (issue 13, "A thin CLI": `billing --help` within 0.3 s of
 * `node -e 0`; a query within 1.0 s end to end), beside `node -e 0` and `temporal --help` (the
 * pinned Temporal CLI, a Go binary) measured in the same run, round by round, so that a busy moment
 * of the machine weighs on all of them alike. Medians are reported, with the fastest run.
 *
 * The stack is real and started here: a fresh migrated PostgreSQL (bench/common.ts) with one
 * subscriber and a few days of calls imported through the importer, and the Temporal dev server
 * from the pinned binary, which the CLI is pointed at. The CLI is the compiled one that
 * bin/billing.js runs (`npm run bench` builds it first, through the setup).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../config';
import { createPool } from '../db/pool';
import { importUsageFile } from '../db/usage-import';
import { temporalCliPath } from '../stack/binaries';
import { SEARCH_ATTRIBUTES } from '../workflows/messages';
import { option, say, withDatabase } from './common';

const BIN = path.resolve(__dirname, '../bin/billing.js');
const SUBSCRIBER = 'bench-cli-1';
const HELP_MARGIN_SECONDS = 0.3;
const QUERY_TARGET_SECONDS = 1.0;

interface Measured {
  label: string;
  seconds: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs one command to its end and returns the seconds it took; a failure stops the benchmark. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
  return seconds;
}

/** Calls of the last days, some over the month's start, in the CLI's own CSV format. */
function usageFile(dir: string): string {
  const lines = ['subscriber,start,answer_seconds,direction,kind'];
  const now = Date.now();
  for (let i = 0; i < 40; i += 1) {
    const start = new Date(now - (i + 1) * 9 * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    lines.push(`${SUBSCRIBER},${start},${60 + ((i * 137) % 1800)},${i % 3 ? 'outgoing' : 'incoming'},call`);
  }
  const file = path.join(dir, 'usage.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export async function benchCli(): Promise<void> {
  const runs = option('runs', 7);
  const config = loadConfig();
  const temporal = temporalCliPath(config);
  await withDatabase(async (url) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-cli-'));
    const pool = createPool(url);
    let env: TestWorkflowEnvironment | undefined;
    try {
      say('seeding one subscriber and 40 calls of the last days');
      const since = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
      await pool.query(`INSERT INTO subscribers (id, name, email, timezone, monthly_fee_cents, service_start) VALUES ($1, 'Bench One', 'one@bench.test', 'UTC', 1500, $2)`, [
        SUBSCRIBER,
        since,
      ]);
      await pool.query('INSERT INTO subscriber_numbers (number, subscriber_id) VALUES ($1, $2)', ['+15550001000', SUBSCRIBER]);
      await importUsageFile(pool, { file: usageFile(dir), format: 'csv', timezone: 'UTC', source: 'bench-cli' });

      say('starting the Temporal dev server');
      env = await TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: temporal }, ip: '127.0.0.1', searchAttributes: SEARCH_ATTRIBUTES },
      });
      const address = (env.connection as unknown as { options: { address: string } }).options.address;
      const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' };

      const cases: { label: string; command: string; args: string[] }[] = [
        { label: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
        { label: 'temporal --help', command: temporal, args: ['--help'] },
        { label: 'billing --help', command: process.execPath, args: [BIN, '--help'] },
        { label: 'billing subscribers list --json', command: process.execPath, args: [BIN, 'subscribers', 'list', '--json'] },
        { label: `billing usage show ${SUBSCRIBER} --json`, command: process.execPath, args: [BIN, 'usage', 'show', SUBSCRIBER, '--json'] },
      ];
      // One unmeasured round: the files are in the page cache and the database has its plans.
      for (const c of cases) timed(c.command, c.args, cliEnv);
      const measured: Measured[] = cases.map((c) => ({ label: c.label, seconds: [] }));
      say(`timing ${cases.length} commands, ${runs} rounds`);
      for (let round = 0; round < runs; round += 1) {
        cases.forEach((c, i) => measured[i]!.seconds.push(timed(c.command, c.args, cliEnv)));
      }

      const width = Math.max(...measured.map((m) => m.label.length));
      const line = (m: Measured): string => `  ${m.label.padEnd(width)}  median ${median(m.seconds).toFixed(3)} s  (fastest ${Math.min(...m.seconds).toFixed(3)} s)`;
      const nodeMedian = median(measured[0]!.seconds);
      const help = median(measured[2]!.seconds);
      const slowestQuery = Math.max(median(measured[3]!.seconds), median(measured[4]!.seconds));
      const helpOk = help - nodeMedian <= HELP_MARGIN_SECONDS;
      const queryOk = slowestQuery <= QUERY_TARGET_SECONDS;
      process.stdout.write(
        [
          `CLI start-up, whole processes, ${runs} runs each (${os.cpus().length} CPUs, load average ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')}):`,
          ...measured.map(line),
          `  billing --help takes ${(help - nodeMedian).toFixed(3)} s more than node -e 0 (target ${HELP_MARGIN_SECONDS} s: ${helpOk ? 'met' : 'missed'})`,
          `  the slower query takes ${slowestQuery.toFixed(3)} s (target ${QUERY_TARGET_SECONDS} s: ${queryOk ? 'met' : 'missed'})`,
          '',
        ].join('\n'),
      );
    } finally {
      await pool.end();
      await env?.teardown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
