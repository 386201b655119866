/** Given-steps shared by the tests: subscribers and their calls, through the real import path. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { importUsageFile, type ImportSummary } from '../../db/usage-import';
import { insertSubscriber, type NewSubscriber } from '../../db/subscribers';

export async function givenSubscriber(pool: Pool, s: Partial<NewSubscriber> & { id: string }): Promise<NewSubscriber> {
  const subscriber: NewSubscriber = {
    email: `${s.id}@example.test`,
    timezone: 'UTC',
    business: false,
    monthlyFeeCents: 0,
    serviceStart: '2026-01-01',
    numbers: [],
    ...s,
  };
  await insertSubscriber(pool, subscriber);
  return subscriber;
}

export interface CallRow {
  subscriber: string;
  /** Answer time, in UTC unless the import says otherwise: "YYYY-MM-DD HH:MM:SS". */
  start: string;
  seconds: number;
  direction?: 'outgoing' | 'incoming';
  kind?: 'call' | 'voicemail' | 'unanswered' | 'feature';
}

export function usageCsv(rows: CallRow[]): string {
  return (
    ['subscriber,start,answer_seconds,direction,kind', ...rows.map((r) => `${r.subscriber},${r.start},${r.seconds},${r.direction ?? 'outgoing'},${r.kind ?? 'call'}`)].join('\n') +
    '\n'
  );
}

export async function givenCalls(pool: Pool, rows: CallRow[], options: { timezone?: string; source?: string } = {}): Promise<ImportSummary> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-usage-'));
  const file = path.join(dir, 'usage.csv');
  fs.writeFileSync(file, usageCsv(rows));
  try {
    // Workflow tests date calls in the months their time-skipping server reaches, years from now.
    const callDates = { earliestDay: '2000-01-01', maxFutureHours: 24 * 366 * 20 };
    return await importUsageFile(pool, { file, format: 'csv', timezone: options.timezone ?? 'UTC', source: options.source ?? 'test-switch', callDates });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Calls adding up to exactly `totalSeconds`, one a day from `firstDay` (YYYY-MM-DD) at 10:00 UTC. */
export function callsTotalling(subscriber: string, firstDay: string, totalSeconds: number, maxCallSeconds = 3 * 3600): CallRow[] {
  const rows: CallRow[] = [];
  const start = Date.parse(`${firstDay}T10:00:00Z`);
  for (let remaining = totalSeconds, day = 0; remaining > 0; day += 1) {
    const seconds = Math.min(remaining, maxCallSeconds);
    rows.push({ subscriber, start: new Date(start + day * 86_400_000).toISOString().slice(0, 19).replace('T', ' '), seconds });
    remaining -= seconds;
  }
  return rows;
}
