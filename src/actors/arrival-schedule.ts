// The open model (k6's constant-arrival-rate): start i is due at i / rate after the load began. A start that
// is later than maxLatenessMs, or that finds maxInFlight connections busy, is counted as missed and never
// delayed, so a slow system under test cannot slow the arrivals down (no coordinated omission).

export interface ArrivalPlan {
  /** Starts per second. */
  readonly rate: number;
  readonly maxLatenessMs: number;
  readonly maxInFlight: number;
  /** Milliseconds since the load began, on a monotonic clock. */
  elapsed(): number;
  /** True once the load is over (its duration or count reached): the schedule then calls finish() and stops. */
  limitReached(): boolean;
  inFlight(): number;
  start(): void;
  missed(): void;
  finish(): void;
}

/** Runs the schedule until the limit; returns a stop() that cancels the pending wake-up. */
export function runArrivals(plan: ArrivalPlan): { stop(): void } {
  const intervalMs = 1000 / plan.rate;
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = plan.elapsed();
    while (i * intervalMs <= now) {
      if (plan.limitReached()) return plan.finish();
      if (now - i * intervalMs > plan.maxLatenessMs || plan.inFlight() >= plan.maxInFlight) plan.missed();
      else plan.start();
      i++;
    }
    if (plan.limitReached()) return plan.finish();
    timer = setTimeout(tick, Math.max(1, i * intervalMs - plan.elapsed()));
  };
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
