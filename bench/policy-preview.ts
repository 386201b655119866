/**
 * `npm run bench -- preview [--subscribers 10000] [--calls 30]`: the policy impact preview (issue
 * 16, part 4) over three closed months of a generated population, beside the naive path measured
 * in the same run: the same facts and usage read per subscriber and month (db/terms.ts
 * periodFacts, db/usage.ts countedDurations), timed on a sample and scaled to the population.
 *
 * The data is written by SQL for speed: subscribers (a tenth with a granted limit, a tenth with a
 * minute plan, a twentieth starting mid-August), `--calls` counted calls a month each (monthly
 * totals spread around the 2,400 included minutes), and one invoice with its monthly-fee line
 * per subscriber and month, so every month's close is complete.
 */
import type { Pool } from 'pg';
import { priceInvoice, termsForPeriod } from '../billing/terms';
import { checkPreviewMonths, policyPreview, previewLines } from '../client/policy-preview';
import { previewCsv } from '../billing/policy-preview';
import { createPool } from '../db/pool';
import { policyInEffectOn } from '../db/policies';
import { invoicedMonths, periodFacts } from '../db/terms';
import { countedDurations } from '../db/usage';
import { option, say, withDatabase } from './common';

const PERIODS = ['2026-08', '2026-09', '2026-10'];
const NAIVE_SAMPLE = 1000;

export async function generatePreviewData(pool: Pool, count: number, callsPerMonth: number): Promise<void> {
  await pool.query(
    `INSERT INTO subscribers (id, email, timezone, monthly_fee_cents, service_start)
     SELECT 'p' || lpad(i::text, 6, '0'), 'p' || i || '@bench.test', (ARRAY['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo'])[1 + i % 4],
            1000 + (i % 5) * 500, CASE WHEN i % 20 = 0 THEN date '2026-08-17' ELSE date '2026-01-01' END
       FROM generate_series(1, $1) AS i`,
    [count],
  );
  await pool.query("INSERT INTO support_staff (id, email) VALUES ('bench', 'bench@bench.test')");
  await pool.query(
    `INSERT INTO limit_requests (id, subscriber_id, requested_minutes, reason, status, approved_minutes, reviewer, decided_at)
     SELECT 'LR-' || i, 'p' || lpad(i::text, 6, '0'), 3000, 'bench', 'approved', 3000, 'bench', now() FROM generate_series(7, $1, 10) AS i`,
    [count],
  );
  await pool.query(
    `INSERT INTO subscriber_limits (request_id, subscriber_id, from_period, until_period, minutes)
     SELECT id, subscriber_id, '2026-07', NULL, 3000 FROM limit_requests WHERE reason = 'bench'`,
  );
  await pool.query(
    `INSERT INTO subscriber_plans (subscriber_id, effective_period, minutes, fee_cents, reason)
     SELECT 'p' || lpad(i::text, 6, '0'), '2026-09', 500, 1500, '{}' FROM generate_series(3, $1, 10) AS i`,
    [count],
  );
  for (const period of PERIODS) {
    await pool.query(`CREATE TABLE IF NOT EXISTS calls_${period.replace('-', '_')} PARTITION OF calls FOR VALUES IN ('${period}')`);
    // Each subscriber's calls of the month: durations around a monthly total of 1,200 to 3,600 minutes.
    await pool.query(
      `INSERT INTO calls (record_key, subscriber_id, direction, segment, period, started_at, billable_seconds, counted)
       SELECT gen_random_uuid(), 'p' || lpad(i::text, 6, '0'), 'outgoing', 0, $2, (($2 || '-18')::date + make_interval(mins => c))::timestamptz,
              ((1200 + (i * 7 + c * 13 + ${PERIODS.indexOf(period)} * 400) % 2400) * 60 / $3) + (c % 59), true
         FROM generate_series(1, $1) AS i, generate_series(1, $3) AS c`,
      [count, period, callsPerMonth],
    );
    await pool.query(
      `INSERT INTO invoices (id, subscriber_id, period, policy_version, currency, calls, used_seconds, allowance_seconds, overage_minutes,
                             overage_rate_micros, total_cents, overage_cents)
       SELECT 'INV-' || $1 || '-' || id, id, $1, 1, 'USD', 0, 0, 144000, 0, 50000, monthly_fee_cents, 0 FROM subscribers`,
      [period],
    );
    await pool.query(
      `INSERT INTO invoice_lines (invoice_id, line_no, kind, description, quantity, unit_price_micros, amount_cents)
       SELECT 'INV-' || $1 || '-' || id, 1, 'monthly-fee', 'Monthly fee', 1, monthly_fee_cents * 10000, monthly_fee_cents FROM subscribers`,
      [period],
    );
  }
  await pool.query('ANALYZE');
}

const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

export async function benchPolicyPreview(): Promise<void> {
  const count = option('subscribers', 10_000);
  const callsPerMonth = option('calls', 30);
  await withDatabase(async (url) => {
    const pool = createPool(url, 4);
    try {
      let started = process.hrtime.bigint();
      await generatePreviewData(pool, count, callsPerMonth);
      say(
        `generated ${count.toLocaleString('en')} subscribers, ${(count * callsPerMonth * PERIODS.length).toLocaleString('en')} calls and ${(count * PERIODS.length).toLocaleString('en')} invoices in ${seconds(started).toFixed(1)} s`,
      );

      started = process.hrtime.bigint();
      await checkPreviewMonths(pool, PERIODS, Date.now());
      const checked = seconds(started);
      const runs: number[] = [];
      let lines: string[] = [];
      let csvBytes = 0;
      for (let run = 0; run < 3; run += 1) {
        started = process.hrtime.bigint();
        const report = await policyPreview(pool, PERIODS, { includedMinutes: 3000, overageRateMicros: 40_000 });
        lines = previewLines(report);
        csvBytes = previewCsv(report).length;
        runs.push(seconds(started));
      }

      // The naive path: the same facts and usage read per subscriber and month, on a sample.
      const sample = (await invoicedMonths(pool, PERIODS)).slice(0, NAIVE_SAMPLE);
      started = process.hrtime.bigint();
      for (const m of sample) {
        const facts = await periodFacts(pool, m.subscriber, m.period, { policyOn: (day) => policyInEffectOn(pool, day) });
        const durations = await countedDurations(pool, m.subscriber.id, m.period);
        priceInvoice(termsForPeriod(facts), durations, []);
      }
      const naivePerMonth = seconds(started) / sample.length;
      const total = count * PERIODS.length;
      const best = Math.min(...runs);
      process.stdout.write(
        [
          `policy preview, ${count.toLocaleString('en')} subscribers × ${PERIODS.length} months (${callsPerMonth} calls each a month):`,
          `  months checked closed (one close-progress query a month):  ${checked.toFixed(2)} s`,
          `  preview (set-based queries, both ratings, summary, CSV):    ${runs.map((s) => s.toFixed(2)).join(' s, ')} s (best ${best.toFixed(2)} s; CSV ${(csvBytes / 1024).toFixed(0)} KiB)`,
          `  baseline, per subscriber and month (4 queries each):        ${(naivePerMonth * 1000).toFixed(2)} ms each over ${sample.length.toLocaleString('en')}: ~${(naivePerMonth * total).toFixed(1)} s for ${total.toLocaleString('en')}`,
          `  summary: ${lines[lines.length - 1]}`,
        ].join('\n') + '\n',
      );
    } finally {
      await pool.end();
    }
  });
}
