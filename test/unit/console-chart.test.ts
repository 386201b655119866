import { chartPoints, usageChartSvg } from '../../console/chart';

test('the points run day by day to today with the running total, over the allowance once past it', () => {
  const points = chartPoints(
    '2026-02',
    [
      { day: '2026-02-01', countedSeconds: 600 },
      { day: '2026-02-03', countedSeconds: 1_230 },
    ],
    1_200,
    '2026-02-04',
  );
  expect(points).toEqual([
    { day: '2026-02-01', dayMinutes: 10, cumulativeMinutes: 10, overAllowance: false },
    { day: '2026-02-02', dayMinutes: 0, cumulativeMinutes: 10, overAllowance: false },
    { day: '2026-02-03', dayMinutes: 20, cumulativeMinutes: 30, overAllowance: true },
    { day: '2026-02-04', dayMinutes: 0, cumulativeMinutes: 30, overAllowance: true },
  ]);
  // A month already over ends at its last day, never after it.
  expect(chartPoints('2026-02', [], 60, '2026-03-10')).toHaveLength(28);
  expect(chartPoints('2026-02', [], 60)).toEqual([]);
});

test('the SVG has a bar a day with its numbers, the allowance line, and says the totals to a screen reader', () => {
  const points = chartPoints('2026-04', [{ day: '2026-04-02', countedSeconds: 150_000 }], 144_000, '2026-04-02');
  const svg = usageChartSvg('2026-04', points, 144_000);
  expect(svg).toContain('aria-label="Usage in 2026-04: 2,500 of 2,400 allowed minutes by 2026-04-02"');
  expect(svg.match(/<rect /g)).toHaveLength(2);
  expect(svg).toContain('data-day="2026-04-02" data-cumulative-minutes="2500"');
  expect(svg).toContain('class="bar over"');
  expect(svg).toContain('<title>2026-04-02: 2,500 min that day, 2,500 min in the month so far</title>');
  expect(svg).toContain('data-allowance-minutes="2400"');
  expect(svg).toContain('allowance 2,400 min');
  expect(svg).not.toMatch(/NaN|undefined/);
});
