/**
 * The abuse detectors of issue 7 on hand-made call sets: each bound met exactly, missed by one and
 * passed by one. Every detector fires strictly above its bound, except the active-hours count of
 * round-the-clock calling, which fires on reaching it.
 */
import {
  answeredSecondsByDay,
  DEFAULT_ABUSE_THRESHOLDS,
  findingKey,
  localDayBounds,
  parseAbuseThresholds,
  peakConcurrency,
  runDetectors,
  scanWindow,
  trailingDays,
  type AbuseCall,
  type AbuseDetector,
  type AbuseScanInput,
  type AbuseThresholds,
  type Finding,
} from '../../billing/abuse';

const DAY = '2026-03-15';
const HOUR_S = 3600;
const T = DEFAULT_ABUSE_THRESHOLDS;

/** An instant of a day in UTC: at('13:00:05'). */
const at = (time: string, day = DAY): number => Date.parse(`${day}T${time}Z`);

let nextId = 0;
function call(startMs: number, answeredSeconds: number, more: Partial<AbuseCall> = {}): AbuseCall {
  nextId += 1;
  return { callId: `c${nextId}`, startMs, answeredSeconds, counted: true, ...more };
}

/** `count` calls of `seconds` each, starting at `firstMs` and every `everySeconds` after. */
function series(count: number, firstMs: number, everySeconds: number, seconds: number): AbuseCall[] {
  return Array.from({ length: count }, (_, i) => call(firstMs + i * everySeconds * 1000, seconds));
}

function scan(calls: AbuseCall[], more: Partial<AbuseScanInput> = {}): AbuseScanInput {
  return { subscriberId: 'sub-1', timeZone: 'UTC', day: DAY, calls, allowanceSeconds: 2400 * 60, trailingDailySeconds: [], thresholds: T, ...more };
}

const thresholds = (more: Partial<AbuseThresholds>): AbuseThresholds => ({ ...T, ...more });

function findingOf(detector: AbuseDetector, input: AbuseScanInput): Finding | undefined {
  return runDetectors(input).find((f) => f.detector === detector);
}

describe('excessive use: month-to-date answered time above 300 % of the allowance', () => {
  // Allowance 1000 s: the bound is 3000 s.
  test.each([
    [2999, false],
    [3000, false],
    [3001, true],
  ])('%i s against an allowance of 1000 s: finding %s', (seconds, expected) => {
    const found = findingOf('excessive-use', scan([call(at('10:00:00', '2026-03-01'), seconds)], { allowanceSeconds: 1000 }));
    expect(found !== undefined).toBe(expected);
  });

  test('with the default allowance: 7200 minutes over the first 15 days are at the bound, one second more is past it', () => {
    const atBound = Array.from({ length: 15 }, (_, i) => call(at('08:00:00', `2026-03-${String(i + 1).padStart(2, '0')}`), 8 * HOUR_S));
    expect(findingOf('excessive-use', scan(atBound))).toBeUndefined();
    const found = findingOf('excessive-use', scan([...atBound, call(at('20:00:00'), 1)]));
    expect(found).toMatchObject({
      key: 'sub-1:excessive-use:2026-03-15',
      evidence: { measured: { monthToDateSeconds: 432_001, allowanceSeconds: 144_000 }, threshold: { excessiveUsePercent: 300, thresholdSeconds: 432_000 }, callCount: 16 },
    });
    expect(found!.summary).toBe('Subscriber sub-1 used 7200 min 1 s from the start of the month to 2026-03-15, more than 300 % of the 2400 min allowance (7200 min).');
  });

  test('calls not counted, calls of the month before and calls after the scanned day are not month-to-date use', () => {
    const calls = [
      call(at('10:00:00'), 3001, { counted: false }), // e.g. voicemail
      call(at('10:00:00', '2026-02-28'), 3001),
      call(at('10:00:00', '2026-03-16'), 3001),
    ];
    expect(findingOf('excessive-use', scan(calls, { allowanceSeconds: 1000 }))).toBeUndefined();
  });

  test("the month is the subscriber's: a call crossing into it counts for its part inside", () => {
    // Europe/Berlin: March begins at 2026-02-28T23:00Z. The call runs 22:00Z-00:00Z: 1 h in March there, none in UTC.
    const crossing = call(at('22:00:00', '2026-02-28'), 2 * HOUR_S);
    const input = (timeZone: string, allowanceSeconds: number) => scan([crossing], { timeZone, allowanceSeconds });
    expect(findingOf('excessive-use', input('Europe/Berlin', 1199))?.evidence.measured.monthToDateSeconds).toBe(3600); // bound 3597 s
    expect(findingOf('excessive-use', input('Europe/Berlin', 1200))).toBeUndefined(); // bound 3600 s
    expect(findingOf('excessive-use', input('UTC', 0))).toBeUndefined(); // nothing in March in UTC
  });
});

describe('round-the-clock: more than 1080 answered minutes in a day, or a call in every hour of it', () => {
  test.each([
    [64_799, false],
    [64_800, false],
    [64_801, true],
  ])('one call of %i s in the day: finding %s', (seconds, expected) => {
    expect(findingOf('round-the-clock', scan([call(at('00:00:00'), seconds)])) !== undefined).toBe(expected);
  });

  test('a call crossing midnight counts in each day for its part there', () => {
    // 22:00 on the 14th, 2 h + 18 h + 1 s: 2 h on the 14th, 18 h 1 s on the 15th.
    const calls = [call(at('22:00:00', '2026-03-14'), 2 * HOUR_S + 64_801)];
    expect(findingOf('round-the-clock', scan(calls))?.evidence.measured.answeredSeconds).toBe(64_801);
    expect(findingOf('round-the-clock', scan(calls, { day: '2026-03-14' }))).toBeUndefined();
  });

  test('the minutes come from counted calls only', () => {
    expect(findingOf('round-the-clock', scan([call(at('00:00:00'), 64_801, { counted: false })]))).toBeUndefined();
  });

  const oneCallPerHour = (hours: number[], day = DAY, zone = 'UTC'): AbuseCall[] => {
    const { startMs } = localDayBounds(day, zone);
    return hours.map((h) => call(startMs + h * HOUR_S * 1000 + 30 * 60_000, 60));
  };
  const everyHourExcept = (skip: number[]) => Array.from({ length: 24 }, (_, h) => h).filter((h) => !skip.includes(h));

  test('a 1-minute call in each of the 24 hours is round-the-clock calling; 23 of them are not', () => {
    const found = findingOf('round-the-clock', scan(oneCallPerHour(everyHourExcept([]))));
    expect(found?.evidence).toMatchObject({ measured: { answeredSeconds: 1440, activeHours: 24, hoursInDay: 24 }, threshold: { activeHoursRequired: 24 }, callCount: 24 });
    expect(found?.summary).toBe("Subscriber sub-1 called round the clock on 2026-03-15: a call in progress in 24 of the day's 24 hours.");
    expect(findingOf('round-the-clock', scan(oneCallPerHour(everyHourExcept([3]))))).toBeUndefined();
  });

  test.each([
    [19, false],
    [20, true],
    [21, true],
  ])('with the bound at 20 active hours, %i hours: finding %s', (hours, expected) => {
    const input = scan(oneCallPerHour(Array.from({ length: hours }, (_, h) => h)), { thresholds: thresholds({ roundTheClockActiveHoursPerDay: 20 }) });
    expect(findingOf('round-the-clock', input) !== undefined).toBe(expected);
  });

  test('a call ending exactly on the hour is not in progress in the next hour; one long call covers every hour it spans', () => {
    // Hours 0-22 with a 1-minute call each, and a call 22:59-23:00 that ends on the boundary: hour 23 stays empty.
    const upTo23 = [...oneCallPerHour(everyHourExcept([23])), call(at('22:59:00'), 60)];
    expect(findingOf('round-the-clock', scan(upTo23))).toBeUndefined();
    expect(findingOf('round-the-clock', scan([...upTo23, call(at('22:59:00'), 61)]))).toBeDefined();
    // 00:00-06:00 in one call plus a call in each later hour.
    const longFirst = [call(at('00:00:00'), 6 * HOUR_S), ...oneCallPerHour(everyHourExcept([0, 1, 2, 3, 4, 5]))];
    expect(findingOf('round-the-clock', scan(longFirst))?.evidence.measured.activeHours).toBe(24);
  });

  test('days are local: the 23-hour day of the spring change needs 23 hours, the 25-hour day of the autumn change 24', () => {
    const spring = '2026-03-29';
    const springHours = Array.from({ length: 23 }, (_, h) => h);
    const springScan = (hours: number[]) => scan(oneCallPerHour(hours, spring, 'Europe/Berlin'), { day: spring, timeZone: 'Europe/Berlin' });
    expect(findingOf('round-the-clock', springScan(springHours))?.evidence).toMatchObject({
      measured: { activeHours: 23, hoursInDay: 23 },
      threshold: { activeHoursRequired: 23 },
    });
    expect(findingOf('round-the-clock', springScan(springHours.slice(1)))).toBeUndefined();

    const autumn = '2026-10-25';
    const autumnScan = (hours: number[]) => scan(oneCallPerHour(hours, autumn, 'Europe/Berlin'), { day: autumn, timeZone: 'Europe/Berlin' });
    expect(findingOf('round-the-clock', autumnScan(Array.from({ length: 23 }, (_, h) => h)))).toBeUndefined();
    expect(findingOf('round-the-clock', autumnScan(Array.from({ length: 24 }, (_, h) => h)))?.evidence.measured).toMatchObject({ activeHours: 24, hoursInDay: 25 });
  });

  test('both reasons are named when both hold', () => {
    const calls = [call(at('00:00:00'), 20 * HOUR_S), ...oneCallPerHour([20, 21, 22, 23])];
    expect(findingOf('round-the-clock', scan(calls))?.summary).toBe(
      "Subscriber sub-1 called round the clock on 2026-03-15: 1204 min of answered calls, more than 1080 min, and a call in progress in 24 of the day's 24 hours.",
    );
  });
});

describe('simultaneous calls: more than 4 answered calls in progress at once', () => {
  /** `count` calls all in progress at 12:00:30, each starting a second after the one before. */
  const overlapping = (count: number) => series(count, at('12:00:00'), 1, 600);

  test.each([
    [3, false],
    [4, false],
    [5, true],
  ])('%i overlapping calls: finding %s', (count, expected) => {
    expect(findingOf('simultaneous-calls', scan(overlapping(count))) !== undefined).toBe(expected);
  });

  test('the evidence names the calls in progress at the peak and its first instant, in local time in the summary', () => {
    const calls = [call(at('11:00:00'), 60), ...overlapping(5), call(at('14:00:00'), 60)];
    const found = findingOf('simultaneous-calls', scan(calls, { timeZone: 'Asia/Kolkata' }));
    expect(found?.evidence).toEqual({
      measured: { simultaneousCalls: 5, atMs: at('12:00:04') },
      threshold: { simultaneousCallsMax: 4 },
      callIds: calls.slice(1, 6).map((c) => c.callId),
      callCount: 5,
    });
    // Kolkata is UTC+5:30; the day scanned is the 15th there, 14-15 March 18:30Z-18:30Z.
    expect(found?.summary).toBe('Subscriber sub-1 had 5 answered calls in progress at once on 2026-03-15 at 17:30:04 (Asia/Kolkata), more than the 4 allowed.');
  });

  test('a call ending exactly when another starts does not overlap it', () => {
    const four = overlapping(4); // the first ends at 12:10:00
    expect(findingOf('simultaneous-calls', scan([...four, call(at('12:10:00'), 60)]))).toBeUndefined();
    expect(findingOf('simultaneous-calls', scan([...four, call(at('12:09:59'), 60)]))?.evidence.measured.simultaneousCalls).toBe(5);
  });

  test('calls not counted and calls with no answered time are never in progress', () => {
    expect(findingOf('simultaneous-calls', scan([...overlapping(4), call(at('12:00:30'), 60, { counted: false })]))).toBeUndefined();
    expect(findingOf('simultaneous-calls', scan([...overlapping(4), call(at('12:00:30'), 0)]))).toBeUndefined();
  });

  test('a peak belongs to the day it happens on', () => {
    // Five calls in progress together from 23:50 on the 14th to 00:05 on the 15th.
    const calls = series(5, at('23:50:00', '2026-03-14'), 0, 15 * 60);
    expect(findingOf('simultaneous-calls', scan(calls))?.evidence.measured.atMs).toBe(at('00:00:00'));
    expect(findingOf('simultaneous-calls', scan(calls, { day: '2026-03-14' }))?.evidence.measured.atMs).toBe(at('23:50:00', '2026-03-14'));
    // Over by midnight: nothing on the 15th.
    expect(findingOf('simultaneous-calls', scan(series(5, at('23:50:00', '2026-03-14'), 0, 10 * 60)))).toBeUndefined();
  });
});

describe('peak concurrency by sweep line', () => {
  const iv = (callId: string, startMs: number, endMs: number) => ({ callId, startMs, endMs });

  test('no calls, one call, a call of no length', () => {
    expect(peakConcurrency([])).toEqual({ calls: 0, atMs: undefined, callIds: [] });
    expect(peakConcurrency([iv('a', 5, 10)])).toEqual({ calls: 1, atMs: 5, callIds: ['a'] });
    expect(peakConcurrency([iv('a', 5, 5)])).toEqual({ calls: 0, atMs: undefined, callIds: [] });
  });

  test('touching intervals do not overlap; nested and identical ones do', () => {
    expect(peakConcurrency([iv('a', 0, 10), iv('b', 10, 20), iv('c', 20, 30)]).calls).toBe(1);
    expect(peakConcurrency([iv('a', 0, 100), iv('b', 10, 20), iv('c', 15, 16)])).toEqual({ calls: 3, atMs: 15, callIds: ['a', 'b', 'c'] });
    expect(peakConcurrency([iv('a', 0, 10), iv('b', 0, 10)])).toEqual({ calls: 2, atMs: 0, callIds: ['a', 'b'] });
  });

  test('the first of two equal peaks is reported, with the calls of that peak', () => {
    expect(peakConcurrency([iv('a', 0, 10), iv('b', 5, 10), iv('c', 20, 30), iv('d', 25, 30)])).toEqual({ calls: 2, atMs: 5, callIds: ['a', 'b'] });
  });
});

describe('dialer: more than 200 answered calls shorter than 10 s in a day', () => {
  /** Calls a minute apart from 08:00, so that nothing else fires. */
  const shortCalls = (count: number, seconds = 9) => series(count, at('08:00:00'), 60, seconds);

  test.each([
    [199, false],
    [200, false],
    [201, true],
  ])('%i calls of 9 s: finding %s', (count, expected) => {
    const found = runDetectors(scan(shortCalls(count)));
    expect(found.map((f) => f.detector)).toEqual(expected ? ['dialer'] : []);
  });

  test.each([
    [9, true],
    [10, false],
    [11, false],
  ])('201 calls of %i s: finding %s', (seconds, expected) => {
    expect(findingOf('dialer', scan(shortCalls(201, seconds))) !== undefined).toBe(expected);
  });

  test('answered calls of 0 s are short; unanswered attempts are not calls', () => {
    expect(findingOf('dialer', scan(shortCalls(201, 0)))).toBeDefined();
    expect(findingOf('dialer', scan([...shortCalls(200), call(at('20:00:00'), 3, { counted: false })]))).toBeUndefined();
  });

  test('a call belongs to the day it started on', () => {
    expect(findingOf('dialer', scan([...shortCalls(200), call(at('23:59:55', '2026-03-14'), 9)]))).toBeUndefined();
    expect(findingOf('dialer', scan([...shortCalls(200), call(at('23:59:55'), 9)]))).toBeDefined();
  });

  test('the evidence carries the first 20 calls and the count of all', () => {
    const calls = shortCalls(201);
    const found = findingOf('dialer', scan(calls));
    expect(found?.evidence).toEqual({
      measured: { shortCalls: 201 },
      threshold: { dialerShortCallsPerDay: 200, dialerShortCallSeconds: 10 },
      callIds: calls.slice(0, 20).map((c) => c.callId),
      callCount: 201,
    });
    expect(found?.summary).toBe('Subscriber sub-1 made 201 answered calls shorter than 10 s on 2026-03-15, more than the bound of 200 a day.');
  });

  test('a call split at a month boundary is one call: its segments are joined', () => {
    // Segments of 6 s and 6 s under one record key: one call of 12 s, not two short ones.
    const boundary = at('00:00:00', '2026-03-01');
    const split = [call(boundary - 6000, 6, { callId: 'split' }), call(boundary, 6, { callId: 'split' })];
    const input = (calls: AbuseCall[]) => scan(calls, { day: '2026-02-28', thresholds: thresholds({ dialerShortCallsPerDay: 0 }) });
    expect(findingOf('dialer', input(split))).toBeUndefined();
    expect(findingOf('dialer', input([{ ...split[0]!, callId: 'alone' }]))).toBeDefined();
  });
});

describe('sudden change: a day above 500 % of the trailing 30-day median and above 240 minutes', () => {
  const month = (secondsADay: number) => Array.from({ length: 30 }, () => secondsADay);

  test.each([
    [17_999, false],
    [18_000, false],
    [18_001, true],
  ])('a median of 60 min: %i s in the day: finding %s', (seconds, expected) => {
    const found = findingOf('sudden-change', scan([call(at('09:00:00'), seconds)], { trailingDailySeconds: month(3600) }));
    expect(found !== undefined).toBe(expected);
  });

  test("the floor of 240 minutes keeps a quiet subscriber's busier day from firing", () => {
    const quiet = { trailingDailySeconds: month(60) }; // a 1-minute median: 500 % is 5 minutes
    expect(findingOf('sudden-change', scan([call(at('09:00:00'), 6 * 60)], quiet))).toBeUndefined();
    expect(findingOf('sudden-change', scan([call(at('09:00:00'), 14_400)], quiet))).toBeUndefined();
    const found = findingOf('sudden-change', scan([call(at('09:00:00'), 14_401)], quiet));
    expect(found?.evidence).toMatchObject({
      measured: { answeredSeconds: 14_401, trailingMedianSeconds: 60, trailingDays: 30 },
      threshold: { suddenChangePercent: 500, suddenChangeMinimumSeconds: 14_400, thresholdSeconds: 14_400 },
    });
    expect(found?.summary).toBe('Subscriber sub-1 used 240 min 1 s on 2026-03-15, more than 500 % of their median day over the previous 30 days (1 min) and more than 240 min.');
  });

  test('the median of an even count is the mean of the middle two, compared exactly', () => {
    // Middle values 3000 and 3001: median 3000.5 s, 500 % of it 15002.5 s.
    const trailing = [0, 0, 3000, 3001, 9000, 9000];
    const noFloor = thresholds({ suddenChangeMinimumMinutesPerDay: 0, suddenChangeMinimumHistoryDays: 6 });
    const input = (seconds: number) => scan([call(at('09:00:00'), seconds)], { trailingDailySeconds: trailing, thresholds: noFloor });
    expect(findingOf('sudden-change', input(15_002))).toBeUndefined();
    expect(findingOf('sudden-change', input(15_003))?.evidence.measured.trailingMedianSeconds).toBe(3000.5);
  });

  test('quiet days count as 0 in the median', () => {
    const trailing = [...Array.from({ length: 16 }, () => 0), ...Array.from({ length: 14 }, () => 7200)];
    expect(findingOf('sudden-change', scan([call(at('09:00:00'), 14_401)], { trailingDailySeconds: trailing }))?.evidence.measured.trailingMedianSeconds).toBe(0);
  });

  test('fewer than 7 days of history are no baseline; only the last 30 days count', () => {
    const day = [call(at('09:00:00'), 20_000)];
    expect(findingOf('sudden-change', scan(day, { trailingDailySeconds: [60, 60, 60, 60, 60, 60] }))).toBeUndefined();
    expect(findingOf('sudden-change', scan(day, { trailingDailySeconds: [60, 60, 60, 60, 60, 60, 60] }))).toBeDefined();
    // 10 very busy days long ago, then 30 ordinary ones: the median is 60.
    const found = findingOf('sudden-change', scan(day, { trailingDailySeconds: [...Array.from({ length: 10 }, () => 80_000), ...month(60)] }));
    expect(found?.evidence.measured).toMatchObject({ trailingMedianSeconds: 60, trailingDays: 30 });
  });
});

describe('runDetectors', () => {
  test('a finding has a stable key: subscriber, detector, day; the same input gives the same findings', () => {
    const input = scan([...series(201, at('08:00:00'), 60, 9), call(at('00:00:00'), 64_801)], { allowanceSeconds: 0, trailingDailySeconds: Array.from({ length: 30 }, () => 60) });
    const findings = runDetectors(input);
    expect(findings.map((f) => f.key)).toEqual(['sub-1:excessive-use:2026-03-15', 'sub-1:round-the-clock:2026-03-15', 'sub-1:dialer:2026-03-15', 'sub-1:sudden-change:2026-03-15']);
    expect(findingKey('sub-1', 'dialer', DAY)).toBe('sub-1:dialer:2026-03-15');
    expect(runDetectors(input)).toEqual(findings);
  });

  test('no calls, no findings', () => {
    expect(runDetectors(scan([], { trailingDailySeconds: Array.from({ length: 30 }, () => 0) }))).toEqual([]);
  });

  test("a dismissed finding mutes its detector for the subscriber for 30 days from the dismissed finding's day", () => {
    const calls = series(201, at('08:00:00'), 60, 9);
    const withDismissal = (day: string, detector: AbuseDetector = 'dialer') => runDetectors(scan(calls, { dismissals: [{ detector, day }] })).map((f) => f.detector);
    expect(withDismissal('2026-03-15')).toEqual([]);
    expect(withDismissal('2026-02-14')).toEqual([]); // 29 days before
    expect(withDismissal('2026-02-13')).toEqual(['dialer']); // 30 days before: the mute is over
    expect(withDismissal('2026-03-16')).toEqual(['dialer']); // a dismissal after the day does not reach back
    expect(withDismissal('2026-03-15', 'round-the-clock')).toEqual(['dialer']);
  });

  test('bad input is refused with the value named', () => {
    expect(() => runDetectors(scan([], { day: '2026-02-30' }))).toThrow('day "2026-02-30" is not a real calendar date');
    expect(() => runDetectors(scan([], { timeZone: 'Mars/Olympus' }))).toThrow('time zone "Mars/Olympus" is not an IANA time zone');
    expect(() => runDetectors(scan([], { allowanceSeconds: -1 }))).toThrow('allowanceSeconds -1 must be a whole number');
    expect(() => runDetectors(scan([call(at('09:00:00'), 1.5)]))).toThrow('answered seconds 1.5');
  });
});

describe('days, windows and the trailing baseline', () => {
  test('a local day is 23, 24 or 25 hours and starts at its first real instant', () => {
    const hours = (day: string, zone: string) => {
      const { startMs, endMs } = localDayBounds(day, zone);
      return (endMs - startMs) / 3_600_000;
    };
    expect(hours('2026-03-29', 'Europe/Berlin')).toBe(23);
    expect(hours('2026-10-25', 'Europe/Berlin')).toBe(25);
    expect(hours(DAY, 'UTC')).toBe(24);
    // Santiago moves its clocks at midnight: 2026-09-06 begins at 01:00 local, 04:00Z.
    expect(localDayBounds('2026-09-06', 'America/Santiago').startMs).toBe(at('04:00:00', '2026-09-06'));
  });

  test("the scan window is the day's month to date, in the subscriber's zone", () => {
    expect(scanWindow(DAY, 'Europe/Berlin')).toEqual({ fromMs: at('23:00:00', '2026-02-28'), toMs: at('23:00:00') });
    expect(scanWindow('2026-03-01', 'UTC')).toEqual({ fromMs: at('00:00:00', '2026-03-01'), toMs: at('00:00:00', '2026-03-02') });
  });

  test('the trailing days are the ones before the day, oldest first, across months', () => {
    expect(trailingDays('2026-03-02', 3)).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(trailingDays(DAY, T.suddenChangeTrailingDays)).toHaveLength(30);
  });

  test('daily answered seconds split calls at local midnight and leave out what is not counted', () => {
    const calls = [call(at('23:00:00', '2026-03-13'), 2 * HOUR_S), call(at('12:00:00', '2026-03-14'), 100, { counted: false })];
    expect(answeredSecondsByDay(calls, 'UTC', ['2026-03-13', '2026-03-14', '2026-03-15'])).toEqual([3600, 3600, 0]);
    expect(answeredSecondsByDay(calls, 'Europe/Berlin', ['2026-03-13', '2026-03-14', '2026-03-15'])).toEqual([0, 7200, 0]);
  });
});

describe('thresholds', () => {
  test('the defaults are valid and whole numbers', () => {
    expect(parseAbuseThresholds(T)).toEqual(T);
    expect(Object.values(T).every(Number.isSafeInteger)).toBe(true);
    expect(T).toMatchObject({ excessiveUsePercent: 300, roundTheClockMinutesPerDay: 1080, simultaneousCallsMax: 4, dialerShortCallSeconds: 10, dialerShortCallsPerDay: 200 });
  });

  test('a bad threshold is refused with its name, its value and what is expected', () => {
    expect(() => parseAbuseThresholds({ ...T, excessiveUsePercent: 2.5 })).toThrow('abuse threshold excessiveUsePercent 2.5 must be a whole number of percent');
    expect(() => parseAbuseThresholds({ ...T, excessiveUsePercent: 50 })).toThrow('abuse threshold excessiveUsePercent 50 must be at least 100 percent');
    expect(() => parseAbuseThresholds({ ...T, simultaneousCallsMax: undefined })).toThrow('abuse threshold simultaneousCallsMax missing must be a whole number of calls');
    expect(() => parseAbuseThresholds({ ...T, suddenChangeMinimumHistoryDays: 31 })).toThrow(
      'abuse threshold suddenChangeMinimumHistoryDays 31 must not be more than suddenChangeTrailingDays',
    );
    expect(() => parseAbuseThresholds({ ...T, dismissMuteDays: 'x' })).toThrow('abuse threshold dismissMuteDays "x" must be a whole number of days');
    expect(() => parseAbuseThresholds({ ...T, dialerCalls: 5 })).toThrow('abuse thresholds Unrecognized key: "dialerCalls"');
  });
});
