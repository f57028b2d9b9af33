// The closed model with think time, on fake timers and requests the test answers by hand: which request starts
// when, counted, never timed against the wall clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Pace, runThinkTimeUsers } from '../../src/actors/think-time-users.ts';

/** Users whose requests stay open until the test answers them, in the order they started. */
function users(opts: { users: number; thinkMs: number; pace: Pace; count: number; jitterMs?: number }) {
  const answers: Array<(ok: boolean) => void> = [];
  let finished = 0;
  const handle = runThinkTimeUsers({
    users: opts.users,
    thinkMs: opts.thinkMs,
    jitterMs: opts.jitterMs ?? 0,
    pace: opts.pace,
    seed: 1,
    limitReached: () => answers.length >= opts.count,
    start: () => new Promise<boolean>((answer) => answers.push(answer)),
    finish: () => finished++,
  });
  return { answers, handle, finished: () => finished };
}

/** Answers every open request: with the count reached, no user starts again and the load finishes once. */
async function expectDoneAt(u: ReturnType<typeof users>, count: number) {
  for (const answer of u.answers) answer(true);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(u.answers).toHaveLength(count);
  expect(u.finished()).toBe(1);
}

describe('runThinkTimeUsers (closed model with think time)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pace user: each user goes again `think` after its own answer, never with two requests open', async () => {
    const u = users({ users: 2, thinkMs: 100, pace: 'user', count: 4 });
    await vi.advanceTimersByTimeAsync(0);
    expect(u.answers).toHaveLength(2);
    u.answers[0]!(true);
    await vi.advanceTimersByTimeAsync(99);
    expect(u.answers).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    // The first user again; the second still waits for its answer, so it has not gone again.
    expect(u.answers).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(u.answers).toHaveLength(3);
    u.answers[1]!(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(u.answers).toHaveLength(4);
    await expectDoneAt(u, 4);
  });

  it('pace round: the next round comes `think` after the first expected answer; an error answered sooner does not pace it', async () => {
    const u = users({ users: 3, thinkMs: 100, pace: 'round', count: 9 });
    await vi.advanceTimersByTimeAsync(0);
    expect(u.answers).toHaveLength(3);
    // A 502 comes back first: it does not start the clock.
    u.answers[0]!(false);
    await vi.advanceTimersByTimeAsync(50);
    u.answers[1]!(true);
    await vi.advanceTimersByTimeAsync(99);
    expect(u.answers).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    // Round two: the two users that have their answers go; the third waits for its own.
    expect(u.answers).toHaveLength(5);
    u.answers[2]!(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(u.answers).toHaveLength(6);
  });

  it('pace round: where no answer was as expected, the round after comes `think` after the last answer', async () => {
    const u = users({ users: 2, thinkMs: 100, pace: 'round', count: 4 });
    await vi.advanceTimersByTimeAsync(0);
    u.answers[0]!(false);
    await vi.advanceTimersByTimeAsync(30);
    u.answers[1]!(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(u.answers).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(u.answers).toHaveLength(4);
    await expectDoneAt(u, 4);
  });

  it("jitter spreads a round's starts over [0, jitter), the same in every run", async () => {
    const starts = async () => {
      const u = users({ users: 8, thinkMs: 100, pace: 'round', count: 8, jitterMs: 20 });
      const seen: number[] = [];
      for (let t = 0; t < 20; t++) {
        seen.push(u.answers.length);
        await vi.advanceTimersByTimeAsync(1);
      }
      u.handle.stop();
      return seen;
    };
    const first = await starts();
    expect(first[0]).toBeLessThan(8);
    expect(first.at(-1)).toBe(8);
    expect(await starts()).toEqual(first);
  });

  it("stop() cancels the users' pending starts", async () => {
    const u = users({ users: 2, thinkMs: 100, pace: 'user', count: 100 });
    await vi.advanceTimersByTimeAsync(0);
    u.answers[0]!(true);
    u.answers[1]!(true);
    u.handle.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(u.answers).toHaveLength(2);
  });
});
