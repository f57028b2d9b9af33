// A flood on several workers is one load: shares that add up to the plan (counts split with nothing lost, one
// open-model schedule interleaved), and stats merged exactly (sums, errors by code, the earliest first error,
// percentiles from the merged histograms rather than averaged).
import { describe, expect, it } from 'vitest';
import type { FloodPlan } from '../../src/actors/short-conn-options.ts';
import { floodLoop, newLatencyHistogram, type FloodStats } from '../../src/actors/short-conn-loop.ts';
import { mergeFloodStats, shareOf } from '../../src/actors/short-conn-workers.ts';
import { FirstErrorMark } from '../../src/actors/first-error-mark.ts';
import { shortConnOptions } from '../../src/actors/short-conn-options.ts';
import { resolveFields } from '../../src/core/fields.ts';

function plan(raw: Record<string, unknown>): FloodPlan {
  const problems: string[] = [];
  const options = resolveFields(shortConnOptions, { target: 'web', ...raw }, 'flood', problems);
  expect(problems).toEqual([]);
  return {
    name: 'flood',
    kind: 'short-conn-client',
    role: 'load',
    host: 'client',
    options,
    connect: { actor: 'web', host: 'server', address: '198.18.0.2', port: 8080 },
  } as FloodPlan;
}

const zero = (p: FloodPlan): FloodStats => floodLoop(p, { plan: p, now: () => 0, log: () => undefined }).stats();

describe('flood workers', () => {
  it('split count, concurrency and maxInFlight with nothing lost, and interleave one schedule', () => {
    const p = plan({ model: 'open', rate: '1000/s', count: 1001, maxInFlight: 10, concurrency: 7, workers: 3 });
    const shares = [0, 1, 2].map((i) => shareOf(p, i, 3));
    expect(shares.map((s) => s.plan.options.count)).toEqual([334, 334, 333]);
    expect(shares.map((s) => s.plan.options.maxInFlight)).toEqual([4, 3, 3]);
    expect(shares.map((s) => s.plan.options.concurrency)).toEqual([3, 2, 2]);
    expect(shares.map((s) => s.plan.options.rate)).toEqual([1000 / 3, 1000 / 3, 1000 / 3]);
    expect(shares.map((s) => s.plan.options.workers)).toEqual([1, 1, 1]);
    // Worker i's k-th start at (3k + i) ms: every millisecond of the one schedule, once.
    const starts = shares
      .flatMap((s) => [0, 1, 2, 3].map((k) => s.phaseMs + (k * 1000) / s.plan.options.rate))
      .map((t) => Math.round(t * 1e6) / 1e6)
      .sort((a, b) => a - b);
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(shareOf(plan({ model: 'closed', concurrency: 4, workers: 2 }), 1, 2).phaseMs).toBe(0);
  });

  it('merges stats exactly: sums, errors by code and syscall, the earliest first error, percentiles from both histograms', () => {
    const p = plan({ model: 'open', rate: '100/s', workers: 2 });
    const base = zero(p);
    const a: FloodStats = {
      ...base,
      startedAtMs: 100,
      durationMs: 1000,
      attempts: 10,
      connected: 9,
      responses: 9,
      ok: 8,
      missedStarts: 1,
      statuses: { 200: 8, 503: 1 },
      errors: { EADDRNOTAVAIL: { count: 1, syscalls: { connect: 1 }, firstAtMs: 900 } },
      errorCount: 1,
      firstError: { code: 'EADDRNOTAVAIL', syscall: 'connect', atMs: 900, afterStartMs: 800 },
      connectedBeforeFirstError: 15,
      achievedRate: 10,
      connectRate: 9,
      connectRateWindowMs: 1000,
    };
    const b: FloodStats = {
      ...base,
      startedAtMs: 101,
      durationMs: 1001,
      attempts: 12,
      connected: 10,
      responses: 10,
      ok: 10,
      statuses: { 200: 10 },
      errors: {
        EADDRNOTAVAIL: { count: 2, syscalls: { connect: 2 }, firstAtMs: 700 },
        ECONNRESET: { count: 1, syscalls: { read: 1 }, firstAtMs: 950 },
      },
      errorCount: 3,
      firstError: { code: 'EADDRNOTAVAIL', syscall: 'connect', atMs: 700, afterStartMs: 599 },
      connectedBeforeFirstError: 15,
      achievedRate: 12,
      connectRate: 10,
      connectRateWindowMs: 999,
    };
    const latency = newLatencyHistogram();
    for (const [h, values] of [
      [newLatencyHistogram(), [1000, 2000, 3000]],
      [newLatencyHistogram(), [10_000, 20_000]],
    ] as const) {
      for (const v of values) h.recordValue(v);
      latency.add(h);
    }
    const m = mergeFloodStats(p, [a, b], latency);
    expect(m).toMatchObject({
      workers: 2,
      targetRate: 100,
      startedAtMs: 100,
      durationMs: 1002,
      attempts: 22,
      connected: 19,
      responses: 19,
      ok: 18,
      missedStarts: 1,
      statuses: { 200: 18, 503: 1 },
      errorCount: 4,
      connectedBeforeFirstError: 15,
      achievedRate: 22,
      connectRate: 19,
      connectRateWindowMs: 999,
      errors: {
        EADDRNOTAVAIL: { count: 3, syscalls: { connect: 3 }, firstAtMs: 700 },
        ECONNRESET: { count: 1, syscalls: { read: 1 }, firstAtMs: 950 },
      },
      firstError: { code: 'EADDRNOTAVAIL', atMs: 700, afterStartMs: 600 },
    });
    expect(m.latencyMs.count).toBe(5);
    expect(m.latencyMs.p50).toBeCloseTo(3, 2); // the median of 1, 2, 3, 10, 20 ms, at the histogram's 3 significant digits
    expect(m.latencyMs.max).toBeCloseTo(20, 1);
  });
});

describe('FirstErrorMark', () => {
  it('counts a connection by when it began: one whose event comes after the first error still counts if it began first', () => {
    const mark = new FirstErrorMark();
    mark.connected(1);
    mark.error(10);
    mark.error(5); // a later-noted error of another loop: the first one stands
    mark.connected(9); // began before the error, its 'connect' event queued behind it
    mark.connected(11); // began after the error: a port freed up, not counted
    expect(mark.count).toBe(2);
  });

  it('is one mark across views of the same shared memory, as worker threads see it', () => {
    const memory = new SharedArrayBuffer(FirstErrorMark.BYTES);
    const [a, b] = [new FirstErrorMark(memory), new FirstErrorMark(memory)];
    a.connected(1);
    b.connected(2);
    b.error(3);
    a.connected(4);
    expect([a.count, b.count]).toEqual([2, 2]);
  });
});
