// What one JS flood loop counts: connections by what became of them, response statuses, errors by errno and
// syscall, and each response's latency. Every connection of the loop (flood-connection.ts) adds to the same one.
import { performance } from 'node:perf_hooks';
import type * as hdr from 'hdr-histogram-js';
import { ErrorTally } from './error-tally.ts';
import { tallyStatus, type StatusCheck } from './expected-status.ts';
import type { FirstErrorMark } from './first-error-mark.ts';

/** The plain counts a LoopTally carries as they are. */
const COUNT_NAMES = [
  'attempts',
  'connected',
  'responses',
  'ok',
  'missedStarts',
  'inFlight',
  'windowConnected',
  'held',
  'peerClosed',
  'lateWrites',
  'cutAtLoadEnd',
  'resetOnGiveUp',
] as const;

export class FloodTallies {
  attempts = 0;
  connected = 0;
  responses = 0;
  ok = 0;
  missedStarts = 0;
  inFlight = 0;
  /** Connections made within the flood's first second: its achieved connect rate. */
  windowConnected = 0;
  held = 0;
  peerClosed = 0;
  lateWrites = 0;
  cutAtLoadEnd = 0;
  resetOnGiveUp = 0;
  readonly statuses = new Map<number, number>();
  readonly errors: ErrorTally;

  /** `now`: the run clock; `firstError`: shared by every loop of the flood; `latency`: in µs. */
  constructor(
    private readonly now: () => number,
    readonly firstError: FirstErrorMark,
    readonly latency: hdr.Histogram,
    private readonly expectedStatus: StatusCheck,
  ) {
    this.errors = new ErrorTally(now);
  }

  error(err: NodeJS.ErrnoException | { code: string; syscall?: string }): void {
    this.errors.add(err);
    this.firstError.error(this.now());
  }

  /** `begunAt`: the run clock when its connect() began. */
  connectedOne(begunAt: number, inRateWindow: boolean): void {
    this.connected++;
    this.firstError.connected(begunAt);
    if (inRateWindow) this.windowConnected++;
  }

  /** ok counts expected statuses only: another (a 502) is an error of the flood, code HTTP_<status>. */
  status(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (tallyStatus(status, this.expectedStatus, this.errors)) this.ok++;
  }

  /** `t0`: performance.now() when the connection began. */
  response(t0: number): void {
    this.responses++;
    this.latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
  }

  /** The counts as loopStats takes them (a LoopTally). */
  snapshot() {
    const counts = {} as Record<(typeof COUNT_NAMES)[number], number>;
    for (const name of COUNT_NAMES) counts[name] = this[name];
    return {
      ...counts,
      statuses: Object.fromEntries(this.statuses),
      errors: this.errors.toJSON(),
      errorCount: this.errors.total,
      first: this.errors.first,
      connectedBeforeFirstError: this.firstError.count,
    };
  }
}
