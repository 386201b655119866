import fc from 'fast-check';
import {
  answeredSecondsByDay,
  DEFAULT_ABUSE_THRESHOLDS,
  localDayBounds,
  peakConcurrency,
  runDetectors,
  type AbuseCall,
  type AbuseScanInput,
  type CallInterval,
} from '../../billing/abuse';

/** Small intervals on a short line, so that overlaps, touching ends and empty calls are common. */
const intervalsArb: fc.Arbitrary<CallInterval[]> = fc
  .array(fc.record({ startMs: fc.integer({ min: 0, max: 60 }), lengthMs: fc.integer({ min: 0, max: 20 }) }), { maxLength: 12 })
  .map((rows) => rows.map((r, i) => ({ callId: `c${i}`, startMs: r.startMs, endMs: r.startMs + r.lengthMs })));

const inProgressAt = (intervals: readonly CallInterval[], instantMs: number) => intervals.filter((i) => i.startMs <= instantMs && instantMs < i.endMs);

/** The most intervals containing one instant, trying every instant of the line: the definition itself. */
function bruteForcePeak(intervals: readonly CallInterval[]): number {
  let peak = 0;
  for (let instantMs = 0; instantMs <= 80; instantMs += 1) peak = Math.max(peak, inProgressAt(intervals, instantMs).length);
  return peak;
}

describe('peak concurrency properties', () => {
  it('equals the brute-force count over every instant', () => {
    fc.assert(fc.property(intervalsArb, (intervals) => expect(peakConcurrency(intervals).calls).toBe(bruteForcePeak(intervals))));
  });

  it('names exactly the calls in progress at the reported instant, the first instant with that many', () => {
    fc.assert(
      fc.property(intervalsArb, (intervals) => {
        const peak = peakConcurrency(intervals);
        if (peak.atMs === undefined) return expect(peak.calls).toBe(0);
        expect([...peak.callIds].sort()).toEqual(
          inProgressAt(intervals, peak.atMs)
            .map((i) => i.callId)
            .sort(),
        );
        for (let instantMs = 0; instantMs < peak.atMs; instantMs += 1) expect(inProgressAt(intervals, instantMs).length).toBeLessThan(peak.calls);
      }),
    );
  });

  it('does not depend on the order of the calls', () => {
    fc.assert(
      fc.property(intervalsArb, fc.nat(), (intervals, seed) => {
        const rotated = intervals.map((_, i) => intervals[(i + seed) % intervals.length]!);
        expect(peakConcurrency(rotated).calls).toBe(peakConcurrency(intervals).calls);
        expect(peakConcurrency(rotated).atMs).toBe(peakConcurrency(intervals).atMs);
      }),
    );
  });
});

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
const DAYS = ['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']; // New York springs forward on the 8th

/** Calls of whole seconds starting within a few days, some long enough to cross midnight. */
const callsArb = (days: readonly string[]): fc.Arbitrary<AbuseCall[]> =>
  fc
    .array(
      fc.record({
        startS: fc.integer({ min: 0, max: days.length * 86_400 }),
        answeredSeconds: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 30_000 })),
        counted: fc.boolean(),
      }),
      { maxLength: 40, size: 'medium' },
    )
    .map((rows) =>
      rows.map((r, i) => ({ callId: `c${i}`, startMs: Date.parse(`${days[0]}T00:00:00Z`) + r.startS * 1000, answeredSeconds: r.answeredSeconds, counted: r.counted })),
    );

describe('daily totals', () => {
  it('split each counted call across the local days it touches without losing or adding a second', () => {
    fc.assert(
      fc.property(callsArb(DAYS), fc.constantFrom(...ZONES), (calls, zone) => {
        // Days wide enough to hold every call, whatever the zone's offset.
        const days = ['2026-03-06', ...DAYS, '2026-03-11', '2026-03-12'];
        const total = answeredSecondsByDay(calls, zone, days).reduce((a, b) => a + b, 0);
        const { startMs } = localDayBounds(days[0]!, zone);
        expect(startMs).toBeLessThanOrEqual(Date.parse(`${DAYS[0]}T00:00:00Z`));
        expect(total).toBe(calls.filter((c) => c.counted).reduce((sum, c) => sum + c.answeredSeconds, 0));
      }),
    );
  });
});

describe('runDetectors properties', () => {
  // Low bounds, so that random days produce findings of every kind.
  const thresholds = {
    ...DEFAULT_ABUSE_THRESHOLDS,
    roundTheClockMinutesPerDay: 300,
    roundTheClockActiveHoursPerDay: 6,
    simultaneousCallsMax: 1,
    dialerShortCallsPerDay: 1,
    suddenChangeMinimumMinutesPerDay: 60,
  };
  const inputArb: fc.Arbitrary<AbuseScanInput> = fc.record({
    subscriberId: fc.constant('sub-1'),
    timeZone: fc.constantFrom(...ZONES),
    day: fc.constantFrom(...DAYS.slice(1)),
    calls: callsArb(DAYS),
    allowanceSeconds: fc.integer({ min: 0, max: 20_000 }),
    trailingDailySeconds: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 7, maxLength: 30 }),
    thresholds: fc.constant(thresholds),
  });

  it('more calls never take a finding away', () => {
    fc.assert(
      fc.property(inputArb, callsArb(DAYS), (input, more) => {
        const before = runDetectors(input).map((f) => f.key);
        const renamed = more.map((c) => ({ ...c, callId: `more-${c.callId}` }));
        const after = runDetectors({ ...input, calls: [...input.calls, ...renamed] }).map((f) => f.key);
        expect(after).toEqual(expect.arrayContaining(before));
      }),
    );
  });

  it('calls that are not counted change nothing', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(runDetectors({ ...input, calls: input.calls.filter((c) => c.counted) })).toEqual(runDetectors(input));
      }),
    );
  });

  it('every finding is keyed by subscriber, detector and day, carries at most 20 call ids, and its calls exist', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const ids = new Set(input.calls.filter((c) => c.counted).map((c) => c.callId));
        for (const f of runDetectors(input)) {
          expect(f.key).toBe(`${input.subscriberId}:${f.detector}:${input.day}`);
          expect(f.evidence.callIds.length).toBe(Math.min(20, f.evidence.callCount));
          expect(f.evidence.callIds.every((id) => ids.has(id))).toBe(true);
          expect(Object.values(f.evidence.threshold).every(Number.isSafeInteger)).toBe(true);
        }
      }),
    );
  });
});
