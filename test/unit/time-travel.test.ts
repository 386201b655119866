/**
 * `billing demo --months N` (issue 16, part 3): its argument is checked before anything starts
 * (exit 2 with the reason), and the scenario it plays is the coming months, the same for a seed,
 * with every import before its month's close. The play itself: test/workflow/time-travel.test.ts.
 */
import { periodBounds } from '../../billing/periods';
import { DEMO_SUBSCRIBERS } from '../../client/demo-data';
import { buildScenario, closeAtMs, DEFAULT_MONTHS, MAX_MONTHS, monthsProblem } from '../../client/time-travel/scenario';
import { billingIn } from '../helpers/cli';

describe('billing demo --months', () => {
  test.each([['0'], ['25'], ['abc'], ['2.5'], ['-3'], ['']])('--months %p is refused with exit 2 and the accepted range, before anything starts', async (value) => {
    const { code, stderr, stdout } = await billingIn({}, ['demo', '--months', value]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    if (value !== '-3') expect(stderr).toContain(`--months "${value}" must be a whole number of months from 1 to ${MAX_MONTHS} (default ${DEFAULT_MONTHS})`);
    expect(stderr).not.toContain('starting');
  });

  test('--json without --months is refused', async () => {
    const { code, stderr } = await billingIn({}, ['demo', '--json']);
    expect(code).toBe(2);
    expect(stderr).toContain('--json goes with --months N');
  });

  test('--help names the option, its range and its default', async () => {
    const { code, stdout } = await billingIn({}, ['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--months [n]');
    expect(stdout).toContain(`(1-${MAX_MONTHS}, default ${DEFAULT_MONTHS})`);
  });

  test.each([['1'], ['4'], ['24'], ['07']])('--months %p is a number of months it plays', (value) => {
    expect(monthsProblem(value)).toBeUndefined();
  });
});

describe('the scenario', () => {
  const nowMs = Date.parse('2026-12-02T13:00:00Z');
  const settings = { time: '06:00', timezone: 'UTC', graceHours: 6 };

  test('plays the coming months from the 1st of the next one, the same for the same seed', () => {
    const scenario = buildScenario({ nowMs, months: 4 });
    expect(scenario.months.map((m) => m.period)).toEqual(['2027-01', '2027-02', '2027-03', '2027-04']);
    expect(scenario.serviceStart).toBe('2027-01-01');
    expect(scenario.policy.effectiveFrom).toBe('2027-02-01');
    expect(buildScenario({ nowMs, months: 4 })).toEqual(scenario);
    expect(buildScenario({ nowMs, months: 4, seed: 7 }).months[0]!.imports[0]!.calls).not.toEqual(scenario.months[0]!.imports[0]!.calls);
  });

  test('the policy revision takes effect on the 1st of the second month, or the third when the notice period is longer', () => {
    expect(buildScenario({ nowMs: Date.parse('2027-01-30T12:00:00Z'), months: 2 }).policy.effectiveFrom).toBe('2027-03-01');
    expect(buildScenario({ nowMs: Date.parse('2027-01-31T12:00:00Z'), months: 2 }).policy.effectiveFrom).toBe('2027-04-01');
  });

  test("every call is imported after it ended and before its month's close, which waits for the last zone's grace period", () => {
    const scenario = buildScenario({ nowMs, months: 3 });
    for (const month of scenario.months) {
      const close = closeAtMs(month.period, DEMO_SUBSCRIBERS, settings);
      // New York's month ends at 05:00 UTC in winter: its grace ends at 11:00, after the Schedule's 06:00.
      expect(close).toBeGreaterThanOrEqual(periodBounds(month.period, 'America/New_York').endMs + 6 * 3_600_000);
      for (const batch of month.imports) {
        expect(batch.atMs).toBeLessThan(close);
        for (const call of batch.calls) expect(call.startMs + call.seconds * 1000).toBeLessThanOrEqual(batch.atMs);
      }
    }
  });

  test("the late call is one of the first month's, imported with the second month's calls", () => {
    const scenario = buildScenario({ nowMs, months: 2 });
    const [first, second] = scenario.months;
    expect(scenario.lateCall).not.toBeNull();
    expect(second!.imports.flatMap((b) => b.lateCalls)).toEqual([scenario.lateCall]);
    expect(scenario.lateCall!.startMs).toBeLessThan(periodBounds(first!.period, 'Europe/Berlin').endMs);
    // One month played: no next invoice to carry it, so none.
    expect(buildScenario({ nowMs, months: 1 }).lateCall).toBeNull();
  });

  test("alice's months run over her 2400 minutes, bruno's use them exactly", () => {
    const scenario = buildScenario({ nowMs, months: 6 });
    for (const month of scenario.months) {
      const counted = (id: string): number =>
        month.imports
          .flatMap((b) => b.calls)
          .filter((c) => c.subscriberId === id && c.kind === 'call' && !month.imports.some((b) => b.lateCalls.includes(c)))
          .reduce((sum, c) => sum + c.seconds, 0);
      expect(counted('alice')).toBeGreaterThan(2400 * 60);
      expect(counted('bruno')).toBe(2400 * 60);
    }
  });
});
