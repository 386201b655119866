/**
 * One import, in its own process so that its peak memory is its own: prints a JSON line with the
 * rows, seconds and peak resident memory. Used by `npm run bench -- import`.
 */
import { importUsageFile } from '../db/usage-import';
import { createPool } from '../db/pool';

async function main(): Promise<void> {
  const [databaseUrl, file, source] = process.argv.slice(2) as [string, string, string];
  const pool = createPool(databaseUrl, 4);
  const started = process.hrtime.bigint();
  const summary = await importUsageFile(pool, { file, format: 'asterisk', timezone: 'UTC', source });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.end();
  const { touched, ...rest } = summary;
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), subscribersTouched: touched.length, ...rest })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
