/**
 * What the time-travel demo plays (`billing demo --months N`): the example subscribers'
 * months of calls, generated from a seed, the dates they are imported at, and the few things
 * people do meanwhile (a limit request, a policy revision, a call that arrives late). Pure: the
 * engine (./engine.ts) plays it against the real services.
 *
 * The story, month by month, with the default example:
 * - alice runs some 30 to 120 minutes over her 2400 every month: alerts at 80 % and 100 %,
 *   overage on each invoice, and after three months a minute plan from the fourth;
 * - bruno uses his 2400 exactly (80 % and 100 % alerts, no overage), and one of his calls of the
 *   first month reaches the switch's export only in the second: an adjustment on that invoice;
 * - dispatch-co, a business, asks in the first month for 3500 minutes, approved by support the
 *   next day: its months close within the new limit;
 * - emma passes 80 % each month, chiyo calls little;
 * - a policy revision (overage at 0.04 instead of 0.05 a minute) is published as the play
 *   starts, noticed to everyone, reminded a week before, and active from the second month.
 */
import { DateTime } from 'luxon';
import { DEFAULT_POLICY_RULES } from '../../billing/policy';
import { dayOf, earliestEffectiveDate, type PolicyChanges } from '../../billing/policy-revision';
import { daysInPeriod, nextPeriod, periodBounds, periodOf } from '../../billing/periods';
import { DEMO_SUBSCRIBERS, generator, type DemoSubscriber } from '../demo-data';

/** The longest play: two years of months. */
export const MAX_MONTHS = 24;
/** `--months` given without a number. */
export const DEFAULT_MONTHS = 4;
export const DEFAULT_SEED = 2026;

/** Minutes a month: `minutes` and up to `spread` more, drawn from the seed for each month. */
const USAGE: Record<string, { minutes: number; spread: number }> = {
  alice: { minutes: 2430, spread: 90 },
  bruno: { minutes: 2400, spread: 0 },
  chiyo: { minutes: 700, spread: 250 },
  'dispatch-co': { minutes: 3000, spread: 300 },
  emma: { minutes: 1960, spread: 200 },
};

/** The support reviewer who decides the limit request. */
export const REVIEWER = { id: 'sam', email: 'sam@redconnect.example', name: 'Sam Support' };

export const LIMIT_REQUEST = {
  subscriberId: 'dispatch-co',
  minutes: 3500,
  reason: 'Our dispatch desk is staffed around the clock from this month',
  /** Days of the first month (UTC, at 10:00) it is asked and approved. */
  requestDay: 12,
  decisionDay: 13,
  note: 'Approved for the round-the-clock desk',
};

/** One call of the first month that the switch exports only during the second. */
export const LATE_CALL = { subscriberId: 'bruno', day: 28, hour: 15, seconds: 30 * 60 };

/**
 * The revision published as the play starts, effective the 1st of the second month (of the third
 * when the play starts on the last day or two of a month before a short one: the notice period
 * counts from the day it is published).
 */
export const POLICY_REVISION: PolicyChanges = { overageRateMicros: 40_000 };

/** The local days each import covers: calls of days 1-10 are imported on the 11th, and so on. */
const SLICES: { fromDay: number; toDay: number | 'end' }[] = [
  { fromDay: 1, toDay: 10 },
  { fromDay: 11, toDay: 25 },
  { fromDay: 26, toDay: 'end' },
];

/** Imports happen this long after the last zone's slice of days ended. */
const IMPORT_DELAY_MS = 30 * 60_000;

export interface Call {
  subscriberId: string;
  startMs: number;
  seconds: number;
  direction: 'outgoing' | 'incoming';
  kind: 'call' | 'voicemail' | 'unanswered';
}

export interface UsageImport {
  /** When it is imported (simulated time). */
  atMs: number;
  label: string;
  calls: Call[];
  /** The calls in it that belong to a month already closed. */
  lateCalls: Call[];
}

export interface PlayedMonth {
  period: string;
  imports: UsageImport[];
}

export interface Scenario {
  subscribers: DemoSubscriber[];
  seed: number;
  /** The first day of service, the 1st of the first month played. */
  serviceStart: string;
  months: PlayedMonth[];
  policy: { changes: PolicyChanges; effectiveFrom: string };
  limitRequest: (typeof LIMIT_REQUEST & { requestAtMs: number; decisionAtMs: number }) | null;
  lateCall: Call | null;
}

/** Why `--months` cannot be played, or undefined: a whole number from 1 to 24. */
export function monthsProblem(value: unknown): string | undefined {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_MONTHS) {
    return `--months "${String(value)}" must be a whole number of months from 1 to ${MAX_MONTHS} (default ${DEFAULT_MONTHS})`;
  }
  return undefined;
}

const UTC_AT = (period: string, day: number, hour: number): number => Date.parse(`${period}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`);

/**
 * The months from the one after `nowMs` (UTC): the time-skipping server starts at the real now
 * and only moves forward, so a play is of the coming months, each whole from its 1st.
 */
export function buildScenario(options: { nowMs: number; months: number; seed?: number; subscribers?: DemoSubscriber[] }): Scenario {
  const subscribers = options.subscribers ?? DEMO_SUBSCRIBERS;
  const seed = options.seed ?? DEFAULT_SEED;
  const periods: string[] = [];
  for (let p = nextPeriod(periodOf(options.nowMs, 'UTC')); periods.length < options.months; p = nextPeriod(p)) periods.push(p);
  const first = periods[0]!;
  const ids = new Set(subscribers.map((s) => s.id));
  const late =
    ids.has(LATE_CALL.subscriberId) && periods.length >= 2
      ? lateCallOf(
          subscribers.find((s) => s.id === LATE_CALL.subscriberId)!,
          first,
        )
      : null;

  const months = periods.map((period, index): PlayedMonth => {
    // Mixed, so that neighbouring months do not draw nearly the same numbers from the generator.
    const random = generator(Math.imul(seed ^ Math.imul(index + 1, 0x9e3779b1), 0x85ebca6b));
    const calls = subscribers.flatMap((s) => monthOfCalls(s, period, random));
    const imports = SLICES.map((slice, k): UsageImport => {
      const within = (c: Call): boolean => {
        const zone = subscribers.find((s) => s.id === c.subscriberId)!.timezone;
        const day = DateTime.fromMillis(c.startMs, { zone }).day;
        return day >= slice.fromDay && (slice.toDay === 'end' || day <= slice.toDay);
      };
      const lateCalls = late && index === 1 && k === 1 ? [late] : [];
      const days = slice.toDay === 'end' ? `${slice.fromDay} to the end` : `${slice.fromDay} to ${slice.toDay}`;
      return {
        atMs: sliceEndMs(subscribers, period, slice.toDay) + IMPORT_DELAY_MS,
        label: `calls of ${period}, days ${days}${lateCalls.length ? `, and one late call of ${first}` : ''}`,
        calls: [...calls.filter(within), ...lateCalls],
        lateCalls,
      };
    });
    return { period, imports };
  });

  return {
    subscribers,
    seed,
    serviceStart: `${first}-01`,
    months,
    policy: { changes: POLICY_REVISION, effectiveFrom: revisionEffectiveFrom(first, options.nowMs) },
    limitRequest: ids.has(LIMIT_REQUEST.subscriberId)
      ? { ...LIMIT_REQUEST, requestAtMs: UTC_AT(first, LIMIT_REQUEST.requestDay, 10), decisionAtMs: UTC_AT(first, LIMIT_REQUEST.decisionDay, 10) }
      : null,
    lateCall: late,
  };
}

function revisionEffectiveFrom(firstPeriod: string, nowMs: number): string {
  const earliest = earliestEffectiveDate(dayOf(nowMs), DEFAULT_POLICY_RULES.noticeDays);
  let period = nextPeriod(firstPeriod);
  while (`${period}-01` < earliest) period = nextPeriod(period);
  return `${period}-01`;
}

/** The instant the slice's last local day ends in the last zone to reach it. */
function sliceEndMs(subscribers: DemoSubscriber[], period: string, toDay: number | 'end'): number {
  return Math.max(
    ...subscribers.map((s) =>
      toDay === 'end'
        ? periodBounds(period, s.timezone).endMs
        : DateTime.fromMillis(periodBounds(period, s.timezone).startMs, { zone: s.timezone }).plus({ days: toDay }).toMillis(),
    ),
  );
}

/** Counted minutes of the month spread evenly over its days, a few calls a day, plus what does not count. */
function monthOfCalls(s: DemoSubscriber, period: string, random: () => number): Call[] {
  const usage = USAGE[s.id] ?? { minutes: Math.round(s.answeredSeconds / 60), spread: 0 };
  const totalSeconds = (usage.minutes + Math.floor(random() * (usage.spread + 1))) * 60;
  const days = daysInPeriod(period);
  const first = DateTime.fromMillis(periodBounds(period, s.timezone).startMs, { zone: s.timezone });
  const calls: Call[] = [];
  for (let day = 0; day < days; day += 1) {
    // Whole seconds, the month's total exactly: day d gets its share of the running total.
    let seconds = Math.floor((totalSeconds * (day + 1)) / days) - Math.floor((totalSeconds * day) / days);
    const pieces = 1 + Math.floor(random() * 3);
    let hour = 8;
    for (let piece = 0; piece < pieces && seconds > 0; piece += 1) {
      const length = piece === pieces - 1 ? seconds : Math.max(1, Math.floor(seconds * (0.3 + random() * 0.4)));
      const start = first.plus({ days: day, hours: hour, minutes: Math.floor(random() * 50) });
      calls.push({ subscriberId: s.id, startMs: start.toMillis(), seconds: length, direction: random() < 0.55 ? 'outgoing' : 'incoming', kind: 'call' });
      seconds -= length;
      hour += 4;
    }
  }
  // Activity the policy does not count: a voicemail retrieval, an unanswered attempt.
  calls.push({ subscriberId: s.id, startMs: first.plus({ days: 3, hours: 9, minutes: 15 }).toMillis(), seconds: 64, direction: 'outgoing', kind: 'voicemail' });
  calls.push({ subscriberId: s.id, startMs: first.plus({ days: 5, hours: 18, minutes: 40 }).toMillis(), seconds: 0, direction: 'incoming', kind: 'unanswered' });
  return calls;
}

function lateCallOf(s: DemoSubscriber, period: string): Call {
  const start = DateTime.fromMillis(periodBounds(period, s.timezone).startMs, { zone: s.timezone }).plus({ days: LATE_CALL.day - 1, hours: LATE_CALL.hour });
  return { subscriberId: s.id, startMs: start.toMillis(), seconds: LATE_CALL.seconds, direction: 'outgoing', kind: 'call' };
}

/** The calls as the importer's own headed CSV (billing/cdr/own-formats.ts), times in UTC. */
export function usageCsv(calls: Call[]): string {
  const stamp = (ms: number): string => DateTime.fromMillis(ms, { zone: 'UTC' }).toFormat('yyyy-MM-dd HH:mm:ss');
  const lines = calls.map((c) => `${c.subscriberId},${stamp(c.startMs)},${c.seconds},${c.direction},${c.kind}`);
  return `${['subscriber,start,answer_seconds,direction,kind', ...lines].join('\n')}\n`;
}

/**
 * When the Schedule would close `period`: on the 1st after it at its configured time and zone, or,
 * when a subscriber's month (its end in their zone plus the grace period) is not over by then,
 * once it is. Time skipping stops while the close's waiting activity polls, so a close started
 * earlier would wait for the last zone in real time.
 */
export function closeAtMs(period: string, subscribers: DemoSubscriber[], schedule: { time: string; timezone: string; graceHours: number }): number {
  const [hour, minute] = schedule.time.split(':').map(Number) as [number, number];
  const fires = DateTime.fromMillis(periodBounds(nextPeriod(period), schedule.timezone).startMs, { zone: schedule.timezone })
    .set({ hour, minute })
    .toMillis();
  const lastDue = Math.max(...subscribers.map((s) => periodBounds(period, s.timezone).endMs + schedule.graceHours * 3_600_000));
  return Math.max(fires, lastDue);
}
