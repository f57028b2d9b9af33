// The open model's schedule on a clock the test drives: counts of starts and misses, never wall-clock time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runArrivals } from '../../src/actors/arrival-schedule.ts';

describe('runArrivals (open model)', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => vi.useRealTimers());

  /** Advances the driven clock and the timers together, 1 ms at a time. */
  const advance = (ms: number) => {
    for (let k = 0; k < ms; k++) {
      now++;
      vi.advanceTimersByTime(1);
    }
  };

  function schedule(opts: {
    rate: number;
    durationMs: number;
    maxLatenessMs?: number;
    maxInFlight?: number;
    busy?: () => number;
  }) {
    const counts = { started: 0, missed: 0, finished: 0 };
    const handle = runArrivals({
      rate: opts.rate,
      maxLatenessMs: opts.maxLatenessMs ?? 1000,
      maxInFlight: opts.maxInFlight ?? 1000,
      elapsed: () => now,
      limitReached: (dueMs) => dueMs >= opts.durationMs,
      inFlight: opts.busy ?? (() => 0),
      start: () => counts.started++,
      missed: () => counts.missed++,
      finish: () => counts.finished++,
    });
    return { counts, handle };
  }

  it('starts rate x duration connections on time, then finishes once', () => {
    const { counts } = schedule({ rate: 100, durationMs: 1000 });
    advance(1500);
    expect(counts).toEqual({ started: 100, missed: 0, finished: 1 });
  });

  it('counts starts it could not make on time as missed, never delays them', () => {
    const { counts } = schedule({ rate: 100, durationMs: 1000, maxLatenessMs: 5 });
    advance(200); // 21 due by t=200 (t=0..200 every 10 ms)
    now += 300; // the process stalls for 300 ms: 30 starts fall due meanwhile, all more than 5 ms late
    advance(600);
    // The wake-up set for 210 comes 300 ms late, at 510: the starts due at 210..500 are each more than 5 ms
    // late (30 missed); the one due at 510 runs, and so does every later one.
    expect(counts).toEqual({ started: 70, missed: 30, finished: 1 });
  });

  it('accounts for every start due inside the duration when the process stalls across its end', () => {
    const { counts } = schedule({ rate: 100, durationMs: 600, maxLatenessMs: 50 });
    advance(565); // 57 due by t=565 (t=0..560)
    now += 100; // stalls past the end: the starts due at 570..590 are reached at 665, more than 50 ms late
    advance(100);
    // Judged by the clock, the wake-up at 665 would find the load over and drop those three uncounted (57 + 0).
    expect(counts).toEqual({ started: 57, missed: 3, finished: 1 });
  });

  it('counts a start as missed when maxInFlight connections are busy', () => {
    const { counts } = schedule({ rate: 100, durationMs: 500, maxInFlight: 10, busy: () => 10 });
    advance(600);
    expect(counts).toEqual({ started: 0, missed: 50, finished: 1 });
  });

  it('stop() cancels what is pending', () => {
    const { counts, handle } = schedule({ rate: 100, durationMs: 1000 });
    advance(95);
    handle.stop();
    advance(1000);
    expect(counts).toEqual({ started: 10, missed: 0, finished: 0 });
  });
});
