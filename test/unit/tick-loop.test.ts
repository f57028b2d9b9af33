// The sampler's tick accounting: every tick that falls due is either run once or counted as skipped, never both
// and never twice. The clock is driven by fake timers; a run clock a fraction of a millisecond behind the timers'
// clock is what made one tick run twice before (libuv counts whole milliseconds).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TickLoop } from '../../src/sampler/tick-loop.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

async function runFor(ms: number, workMs: (tick: number) => number, clockBehind = 0) {
  const now = () => Date.now() - clockBehind;
  const ticks: number[] = [];
  let skipped = 0;
  const loop = new TickLoop(100, now, async (tick, s) => {
    ticks.push(tick);
    skipped += s;
    const work = workMs(tick);
    if (work > 0) await new Promise((r) => setTimeout(r, work));
  });
  loop.start();
  await vi.advanceTimersByTimeAsync(ms);
  // A tick still at work holds stop() until its own timer fires.
  const stopped = loop.stop();
  await vi.advanceTimersByTimeAsync(1_000);
  await stopped;
  return { ticks, skipped, due: loop.due };
}

describe('TickLoop', () => {
  it('runs every tick once when the work is quick', async () => {
    const r = await runFor(1_000, () => 5);
    expect(r.ticks).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.skipped).toBe(0);
  });

  it('never runs a tick twice when the timers fire just before the run clock reaches the tick', async () => {
    const r = await runFor(1_000, () => 5, 0.5);
    expect(new Set(r.ticks).size).toBe(r.ticks.length);
    expect(r.ticks.length + r.skipped).toBe(r.due);
    expect(r.skipped).toBe(0);
  });

  it('skips and counts the ticks that fall due while one runs long, so that run plus skipped equals due', async () => {
    // Every third tick takes 250 ms: the two ticks that fall due meanwhile are skipped.
    const r = await runFor(2_000, (tick) => (tick % 3 === 0 ? 250 : 10), 0.5);
    expect(new Set(r.ticks).size).toBe(r.ticks.length);
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.ticks.length + r.skipped).toBe(r.due);
  });
});
