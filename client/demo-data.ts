/**
 * The demo's realistic example: a handful of subscribers in different time zones and a month of
 * their calls as our headed CSV, with one subscriber past the limit. Deterministic, so running
 * the demo again imports nothing twice.
 */
import { DateTime } from 'luxon';
import { periodBounds } from '../billing/periods';

export interface DemoSubscriber {
  id: string;
  name: string;
  email: string;
  timezone: string;
  business: boolean;
  monthlyFee: string;
  numbers: string[];
  /** Answered seconds of counted calls in the month. */
  answeredSeconds: number;
}

export const DEMO_SUBSCRIBERS: DemoSubscriber[] = [
  {
    id: 'alice',
    name: 'Alice Moreau',
    email: 'alice@example.com',
    timezone: 'America/New_York',
    business: false,
    monthlyFee: '29.99',
    numbers: ['+12125550101'],
    answeredSeconds: 2460 * 60 + 30,
  },
  {
    id: 'bruno',
    name: 'Bruno Keller',
    email: 'bruno@example.de',
    timezone: 'Europe/Berlin',
    business: false,
    monthlyFee: '29.99',
    numbers: ['+493055501'],
    answeredSeconds: 2400 * 60,
  },
  {
    id: 'chiyo',
    name: 'Chiyo Tanaka',
    email: 'chiyo@example.jp',
    timezone: 'Asia/Tokyo',
    business: false,
    monthlyFee: '19.99',
    numbers: ['+81355501234'],
    answeredSeconds: 812 * 60 + 17,
  },
  {
    id: 'dispatch-co',
    name: 'Dispatch & Co',
    email: 'accounts@dispatch.example',
    timezone: 'UTC',
    business: true,
    monthlyFee: '49.00',
    numbers: ['+442075550199', '+442075550198'],
    answeredSeconds: 3125 * 60,
  },
  {
    id: 'emma',
    name: 'Emma Walsh',
    email: 'emma@example.com.au',
    timezone: 'Australia/Sydney',
    business: false,
    monthlyFee: '24.50',
    numbers: ['+61255501234'],
    answeredSeconds: 1530 * 60 + 45,
  },
];

/** A small deterministic generator, so the example is the same on every machine. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function demoUsageCsv(period: string): string {
  const lines = ['subscriber,start,answer_seconds,direction,kind'];
  DEMO_SUBSCRIBERS.forEach((s, index) => {
    const random = generator(index + 1);
    const { startMs } = periodBounds(period, s.timezone);
    const first = DateTime.fromMillis(startMs, { zone: s.timezone });
    const stamp = (day: number, hour: number, minute: number): string => first.plus({ days: day, hours: hour, minutes: minute }).toUTC().toFormat('yyyy-MM-dd HH:mm:ss');
    let remaining = s.answeredSeconds;
    let call = 0;
    while (remaining > 0) {
      const seconds = Math.min(remaining, 120 + Math.floor(random() * 3000));
      const direction = random() < 0.55 ? 'outgoing' : 'incoming';
      lines.push(`${s.id},${stamp(call % 27, 8 + Math.floor(random() * 12), Math.floor(random() * 60))},${seconds},${direction},call`);
      remaining -= seconds;
      call += 1;
    }
    // Activity the policy does not count: voicemail, unanswered attempts.
    lines.push(`${s.id},${stamp(3, 9, 15)},64,outgoing,voicemail`);
    lines.push(`${s.id},${stamp(5, 18, 40)},0,incoming,unanswered`);
  });
  return `${lines.join('\n')}\n`;
}
