// The native flood's latency summary, counted in one pass over its (value, count) pairs, is hdr's own: the same
// percentiles, max and count as a histogram filled with the pairs, and its mean to the last few ulps.
import { describe, expect, it } from 'vitest';
import { latencySummary, latencySummaryOfPairs, newLatencyHistogram } from '../../src/actors/short-conn-loop.ts';

/** Ascending values, as native/flood.c lists its buckets: a pseudo-random spread from 30 µs to 3 s, counts 1-50. */
function pairs(n: number, seed: number): Float64Array {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = new Set<number>();
  while (values.size < n) values.add(Math.round(30 * 10 ** (next() * 5)));
  const sorted = [...values].sort((a, b) => a - b);
  return Float64Array.from(sorted.flatMap((v) => [v, 1 + Math.floor(next() * 50)]));
}

describe('latency summary of native pairs', () => {
  it.each([1, 2, 7, 100, 2000])("equals hdr's summary of the same values (%i buckets)", (n) => {
    for (const seed of [1, 42, 4242]) {
      const p = pairs(n, seed);
      const h = newLatencyHistogram();
      for (let i = 0; i < p.length; i += 2) h.recordValueWithCount(p[i]!, p[i + 1]!);
      const want = latencySummary(h);
      const got = latencySummaryOfPairs(p);
      expect({ ...got, mean: null }).toEqual({ ...want, mean: null });
      expect(got.mean!).toBeCloseTo(want.mean!, 9);
    }
  });

  it('is empty, as hdr says it, without a value', () => {
    expect(latencySummaryOfPairs(new Float64Array(0))).toEqual(latencySummary(newLatencyHistogram()));
  });
});

describe('latency summary bounds', () => {
  it('never shows a percentile above the largest value recorded', () => {
    // 8,298,496 µs sits in a bucket whose top is above it: hdr alone would give p99 past the max.
    const p = Float64Array.from([1000, 1, 8_298_496, 100]);
    const h = newLatencyHistogram();
    h.recordValueWithCount(1000, 1);
    h.recordValueWithCount(8_298_496, 100);
    expect(h.getValueAtPercentile(99)).toBeGreaterThan(8_298_496);
    for (const s of [latencySummaryOfPairs(p), latencySummary(h)]) {
      expect(s.p99).toBe(8298.496);
      expect(s.max).toBe(8298.496);
    }
  });
});
