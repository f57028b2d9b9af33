// How often the full census may run: as often as the ticks ask while it is cheap, and no more than a share of one
// core when it is not. A census is one sock_diag dump, and the kernel walks every socket of the namespace for it
// whatever the states asked for (about 0.2 µs a socket here even when it is filtered out, 0.3 µs when it is listed):
// 100,000 sockets cost 30-45 ms a census, so a census every 100 ms tick would be a third of a core or more. The
// cheap counters (sockstat's TIME_WAIT and socket totals, TcpExt, Tcp) are still read at every tick.

/** The census's share of one core, over time: 10% (a 40 ms census every 400 ms, a 1 ms one every tick). */
export const CENSUS_CPU_SHARE = 0.1;

export class CensusBudget {
  private nextAt = -Infinity;

  constructor(private readonly share = CENSUS_CPU_SHARE) {}

  /** Whether a census may start at `now` (ms of a monotonic clock: performance.now()). */
  mayStart(now: number): boolean {
    return now >= this.nextAt;
  }

  /** A census that started at `startedAt` took `ms`: the next waits until its share of the time has passed. */
  ended(startedAt: number, ms: number): void {
    this.nextAt = startedAt + ms / this.share;
  }
}
