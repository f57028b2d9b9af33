// The closed model with think time (k6's constant-vus with a sleep): each of `users` sends a request, waits for
// its response, waits `thinkMs`, and sends again. The next start is paced by the system's own answers, not by a
// clock, so a slow round delays the next one instead of shifting it against the last. Paced per user, each user
// goes again after its own response; paced per round, the users go again together `thinkMs` after the round's
// first expected answer (a user whose own answer is later goes once it has it), so each round starts at the same
// distance from the first connection the last round freed, however late that round ran.
// Each start is later by a uniform [0, jitterMs) from the same seeded hash as the open model's jitter (start i of
// the run gets the same jitter in every run).
import { jitterUnit } from './arrival-schedule.ts';

export type Pace = 'user' | 'round';

export interface ThinkTimePlan {
  readonly users: number;
  readonly thinkMs: number;
  readonly jitterMs: number;
  readonly pace: Pace;
  readonly seed: number;
  /** True once the load is over (its duration or count reached): no user starts again. */
  limitReached(): boolean;
  /** One request; resolves when it is answered (true: with an expected status) or failed (false). */
  start(): Promise<boolean>;
  /** Called once, when every user has stopped. */
  finish(): void;
}

/** Runs the users until the limit; returns a stop() that cancels every pending wake-up. */
export function runThinkTimeUsers(plan: ThinkTimePlan): { stop(): void } {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let starts = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    plan.finish();
  };
  const jitter = () => (plan.jitterMs > 0 ? jitterUnit(plan.seed, starts++) * plan.jitterMs : 0);
  const after = (ms: number, fn: () => void) => {
    // setTimeout(fn, 0) waits a millisecond: without jitter a round's requests go at once.
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  // One user's request after its jitter; resolves once answered (true if as expected), or at once if the load is over.
  const one = () =>
    new Promise<boolean>((answered) =>
      after(jitter(), () => {
        if (stopped || plan.limitReached()) return answered(false);
        plan.start().then(answered);
      }),
    );

  if (plan.pace === 'round') {
    // Each user's last request; its next one waits for it.
    let last: Promise<unknown>[] = Array.from({ length: plan.users }, () => Promise.resolve());
    const round = () => {
      if (stopped || plan.limitReached()) {
        Promise.all(last).then(finish);
        return;
      }
      let paced = false;
      const next = () => {
        if (paced) return;
        paced = true;
        if (stopped) Promise.all(last).then(finish);
        else after(plan.thinkMs, round);
      };
      // The round's pace is its first expected answer, not an error: a proxy's 502 comes back as soon as its
      // upstream reset, ahead of every answer the server paced. Where none was as expected, its last answer.
      last = last.map((previous) => previous.then(one).then((ok) => ok && next()));
      Promise.all(last).then(next);
    };
    round();
  } else {
    let running = plan.users;
    const user = () => {
      if (stopped || plan.limitReached()) {
        if (--running === 0) finish();
        return;
      }
      one().then(() => (stopped ? user() : after(plan.thinkMs, user)));
    };
    for (let u = 0; u < plan.users; u++) user();
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
