/**
 * The subscriber page's usage chart: the month day by day, each bar the counted minutes used by
 * the end of that day, against the allowance line, drawn as SVG on the server (no chart library,
 * no script). Pure: the page passes the month's days as db/usage.ts usageByDay read them.
 */
import { daysInPeriod } from '../billing/periods';

export interface ChartDay {
  /** YYYY-MM-DD in the subscriber's zone. */
  day: string;
  /** Counted seconds of the calls that began that day. */
  countedSeconds: number;
}

export interface ChartPoint {
  day: string;
  dayMinutes: number;
  /** The month's counted minutes by the end of the day. */
  cumulativeMinutes: number;
  overAllowance: boolean;
}

/** Every day of the month up to the last day with usage (or `lastDay`, today), with its running total. */
export function chartPoints(period: string, days: readonly ChartDay[], allowanceSeconds: number, lastDay?: string): ChartPoint[] {
  const bySeconds = new Map(days.map((d) => [d.day, d.countedSeconds]));
  const lastUsed = days.reduce((last, d) => (d.day > last ? d.day : last), '');
  const end = lastDay !== undefined && lastDay > lastUsed ? lastDay : lastUsed;
  const points: ChartPoint[] = [];
  let seconds = 0;
  for (let n = 1; n <= daysInPeriod(period); n += 1) {
    const day = `${period}-${String(n).padStart(2, '0')}`;
    if (day > end) break;
    const daySeconds = bySeconds.get(day) ?? 0;
    seconds += daySeconds;
    points.push({ day, dayMinutes: Math.floor(daySeconds / 60), cumulativeMinutes: Math.floor(seconds / 60), overAllowance: seconds > allowanceSeconds });
  }
  return points;
}

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 20, right: 16, bottom: 28, left: 56 };

const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The SVG of the month: one bar a day, the allowance as a dashed line; every bar says its numbers in a tooltip. */
export function usageChartSvg(period: string, points: readonly ChartPoint[], allowanceSeconds: number): string {
  const allowanceMinutes = Math.floor(allowanceSeconds / 60);
  const days = daysInPeriod(period);
  const total = points.at(-1)?.cumulativeMinutes ?? 0;
  const top = Math.max(allowanceMinutes, total, 1) * 1.1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / days;
  const y = (minutes: number): number => MARGIN.top + plotHeight - (minutes / top) * plotHeight;
  const label = `Usage in ${period}: ${thousands(total)} of ${thousands(allowanceMinutes)} allowed minutes${points.length ? ` by ${points.at(-1)!.day}` : ''}`;
  const bars = points.map((p, i) => {
    const height = Math.max(0, y(0) - y(p.cumulativeMinutes));
    const title = `${p.day}: ${thousands(p.dayMinutes)} min that day, ${thousands(p.cumulativeMinutes)} min in the month so far`;
    return (
      `<rect class="bar${p.overAllowance ? ' over' : ''}" data-day="${p.day}" data-cumulative-minutes="${p.cumulativeMinutes}" ` +
      `x="${(MARGIN.left + i * slot + slot * 0.15).toFixed(1)}" y="${y(p.cumulativeMinutes).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${height.toFixed(1)}">` +
      `<title>${escapeXml(title)}</title></rect>`
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(top * f));
  const yAxis = ticks.map(
    (m) =>
      `<text class="tick" x="${MARGIN.left - 6}" y="${(y(m) + 4).toFixed(1)}" text-anchor="end">${thousands(m)}</text>` +
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(m).toFixed(1)}" y2="${y(m).toFixed(1)}"/>`,
  );
  const xLabels = [1, 8, 15, 22, days].map((d) => `<text class="tick" x="${(MARGIN.left + (d - 0.5) * slot).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle">${d}</text>`);
  const allowanceY = y(allowanceMinutes).toFixed(1);
  return [
    `<svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(label)}">`,
    `<title>${escapeXml(label)}</title>`,
    ...yAxis,
    ...bars,
    `<line class="allowance" data-allowance-minutes="${allowanceMinutes}" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${allowanceY}" y2="${allowanceY}"/>`,
    `<text class="allowance-label" x="${WIDTH - MARGIN.right}" y="${(Number(allowanceY) - 5).toFixed(1)}" text-anchor="end">allowance ${thousands(allowanceMinutes)} min</text>`,
    ...xLabels,
    `<text class="axis-label" x="12" y="${MARGIN.top + plotHeight / 2}" transform="rotate(-90 12 ${MARGIN.top + plotHeight / 2})" text-anchor="middle">minutes</text>`,
    '</svg>',
  ].join('\n');
}
