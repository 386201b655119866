/**
 * How many calls were in progress at once, by a sweep over the calls' start and end instants.
 * Intervals are half-open, [startMs, endMs): a call that ends at the instant another starts does
 * not overlap it (one line hung up, the next picked up), and a call of no length overlaps nothing.
 */

export interface CallInterval {
  callId: string;
  startMs: number;
  endMs: number;
}

export interface PeakConcurrency {
  /** The most calls in progress at one instant; 0 for no calls. */
  calls: number;
  /** The first instant at which that many were in progress; undefined for no calls. */
  atMs: number | undefined;
  /** The calls in progress then, in order of start. */
  callIds: string[];
}

/** O(n log n): sort the 2n edges, ends before starts at the same instant, and count. */
export function peakConcurrency(intervals: readonly CallInterval[]): PeakConcurrency {
  const edges: { atMs: number; delta: 1 | -1; index: number }[] = [];
  intervals.forEach((interval, index) => {
    if (interval.endMs <= interval.startMs) return;
    edges.push({ atMs: interval.startMs, delta: 1, index }, { atMs: interval.endMs, delta: -1, index });
  });
  edges.sort((a, b) => a.atMs - b.atMs || a.delta - b.delta);

  const inProgress = new Set<number>();
  let peak: PeakConcurrency = { calls: 0, atMs: undefined, callIds: [] };
  for (const edge of edges) {
    if (edge.delta === -1) {
      inProgress.delete(edge.index);
      continue;
    }
    inProgress.add(edge.index);
    // A copy only when the peak rises: at most `peak` copies of at most `peak` ids.
    if (inProgress.size > peak.calls) {
      const ids = [...inProgress]
        .map((i) => intervals[i]!)
        .sort((a, b) => a.startMs - b.startMs)
        .map((i) => i.callId);
      peak = { calls: inProgress.size, atMs: edge.atMs, callIds: ids };
    }
  }
  return peak;
}
