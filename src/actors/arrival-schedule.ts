// The open model (k6's constant-arrival-rate): start i is due at a time fixed by the pattern (i / rate when
// constant) after the load began. A start that is later than maxLatenessMs, or that finds maxInFlight
// connections busy, is counted as missed and never delayed, so a slow system under test cannot slow the
// arrivals down (no coordinated omission).
import { InvalidValueError } from '../core/errors.ts';
import { parseDuration } from '../core/units.ts';

/** How starts arrive beside a constant rate: in bursts, with jitter, with idle gaps. */
export interface ArrivalPattern {
  /** `size` starts at once every `everyMs` (replaces the rate). */
  readonly burst?: { readonly size: number; readonly everyMs: number };
  /** Each start later by a uniform [0, jitterMs), from a generator seeded by `seed`, so a run repeats. */
  readonly jitterMs?: number;
  /** After every `every` starts, nothing for `forMs`. */
  readonly idle?: { readonly forMs: number; readonly every: number };
  readonly seed?: number;
}

export interface ArrivalPlan {
  /** Starts per second (ignored where the pattern has bursts). */
  readonly rate: number;
  readonly pattern?: ArrivalPattern;
  readonly maxLatenessMs: number;
  readonly maxInFlight: number;
  /** Milliseconds since the load began, on a monotonic clock. */
  elapsed(): number;
  /**
   * True when a start due at dueMs lies beyond the load (its duration or count): the schedule then calls finish()
   * and stops. Judged by when the start was due, not by the clock, so a start due inside the duration that a busy
   * event loop reaches late is still made or counted missed, never dropped uncounted.
   */
  limitReached(dueMs: number): boolean;
  inFlight(): number;
  start(): void;
  missed(): void;
  finish(): void;
}

/** A uniform [0, 1) from (seed, i) alone (a 32-bit integer hash), so start i gets the same jitter in every run. */
export function jitterUnit(seed: number, i: number): number {
  let h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/** When start i is due, ms after the load began, before jitter keeps the order (see runArrivals). */
export function dueMs(rate: number, pattern: ArrivalPattern, i: number): number {
  const base = pattern.burst ? Math.floor(i / pattern.burst.size) * pattern.burst.everyMs : (i * 1000) / rate;
  const gaps = pattern.idle ? Math.floor(i / pattern.idle.every) * pattern.idle.forMs : 0;
  const jitter = pattern.jitterMs ? jitterUnit(pattern.seed ?? 0, i) * pattern.jitterMs : 0;
  return base + gaps + jitter;
}

/** "40 every 5s": a burst of 40 starts every 5 s. */
export function parseBurst(raw: string): { size: number; everyMs: number } {
  const m = /^\s*(\d+)\s+every\s+(\S+)\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1)
    throw new InvalidValueError(`"${raw}" is not a burst: use "<starts> every <duration>" (e.g. "40 every 5s")`);
  const everyMs = parseDuration(m[2]);
  if (everyMs <= 0) throw new InvalidValueError(`"${raw}": a burst's period must be above 0`);
  return { size: Number(m[1]), everyMs };
}

/** "6s every 20": after every 20 starts, 6 s without any. */
export function parseIdle(raw: string): { forMs: number; every: number } {
  const m = /^\s*(\S+)\s+every\s+(\d+)\s*$/.exec(raw);
  if (!m || Number(m[2]) < 1)
    throw new InvalidValueError(`"${raw}" is not an idle gap: use "<duration> every <starts>" (e.g. "6s every 20")`);
  return { forMs: parseDuration(m[1]), every: Number(m[2]) };
}

/** Runs the schedule until the limit; returns a stop() that cancels the pending wake-up. */
export function runArrivals(plan: ArrivalPlan): { stop(): void } {
  const pattern = plan.pattern ?? {};
  let i = 0;
  // Jitter may put a start before the one ahead of it: starts keep their order, each due no earlier than the last.
  let due = dueMs(plan.rate, pattern, 0);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = plan.elapsed();
    while (due <= now) {
      if (plan.limitReached(due)) return plan.finish();
      if (now - due > plan.maxLatenessMs || plan.inFlight() >= plan.maxInFlight) plan.missed();
      else plan.start();
      i++;
      due = Math.max(due, dueMs(plan.rate, pattern, i));
    }
    if (plan.limitReached(due)) return plan.finish();
    timer = setTimeout(tick, Math.max(1, due - plan.elapsed()));
  };
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
