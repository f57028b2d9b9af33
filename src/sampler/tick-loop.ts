// Ticks at t = k * interval of the run's clock, one at a time. A tick whose time passed while the previous one
// ran is skipped and counted, never queued, and no tick number runs twice, so the ticks run plus the ticks
// skipped always equal the ticks that fell due (last - first + 1).

export class TickLoop {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private first = -1;
  private last = -1;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly onTick: (tick: number, skipped: number) => Promise<void>,
  ) {}

  start(): void {
    this.running = true;
    this.first = Math.floor(this.now() / this.intervalMs);
    this.last = this.first - 1;
    this.run(this.first);
  }

  /** Ticks that fell due from start to the last one run: every one was run or counted as skipped. */
  get due(): number {
    return this.last - this.first + 1;
  }

  private run(scheduled: number): void {
    this.inFlight = (async () => {
      if (!this.running) return;
      // libuv's timers count whole milliseconds on a clock of their own and can fire just before the run's clock
      // reaches the tick they were set for: that is still the tick scheduled, never the previous one again.
      const tick = Math.max(scheduled, Math.floor(this.now() / this.intervalMs));
      const skipped = tick - this.last - 1;
      this.last = tick;
      await this.onTick(tick, skipped);
      if (!this.running) return;
      const next = Math.max(tick + 1, Math.floor(this.now() / this.intervalMs));
      this.timer = setTimeout(() => this.run(next), Math.max(0, next * this.intervalMs - this.now()));
    })();
  }

  /** Stops ticking; resolves once a tick in progress has ended. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.inFlight;
  }
}
