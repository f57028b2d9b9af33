// One event loop's flood of short connections: one new TCP connection per request. The hot path does no logging
// and allocates only what a connection needs, so the kernel (connect, port search, TIME_WAIT) is the bottleneck.
// With workers (short-conn-workers.ts) each thread runs one of these on its share of the load.
import { endpointText } from '../core/ipv6.ts';
import { performance } from 'node:perf_hooks';
import type * as hdr from 'hdr-histogram-js';
import { hdrModule } from './hdr-module.ts';
import { runArrivals } from './arrival-schedule.ts';
import type { ActorContext } from './actor.ts';
import type { ErrorCount } from './error-tally.ts';
import { deferred } from '../core/deferred.ts';
import { FirstErrorMark } from './first-error-mark.ts';
import { parseExpect } from './expected-status.ts';
import { FloodConnection, type FloodConnectionEvents, type FloodConnectionSetup } from './flood-connection.ts';
import { FloodTallies } from './flood-tallies.ts';
import type { FloodPlan } from './short-conn-options.ts';

/** The first second of the flood measures its achieved rate, apart from any later failure. */
const RATE_WINDOW_MS = 1000;

/** A loop's share of a flood: its phase in the open model's schedule (ms), and the first-error mark all loops share. */
export interface LoopShare {
  phaseMs: number;
  firstError: FirstErrorMark;
}

export interface LatencySummary {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly count: number;
}

/** Latency percentiles in ms from a histogram of µs. */
export function latencySummary(h: hdr.Histogram): LatencySummary {
  // hdr gives a percentile as the top of its value's bucket, which can pass the largest value recorded (p99 8,302.6
  // ms beside a max of 8,298.5): no percentile is shown above the max.
  const p = (q: number) => (h.totalCount ? Math.min(h.getValueAtPercentile(q), h.maxValue) / 1000 : null);
  return {
    p50: p(50),
    p90: p(90),
    p99: p(99),
    max: h.totalCount ? h.maxValue / 1000 : null,
    mean: h.totalCount ? h.mean / 1000 : null,
    count: h.totalCount,
  };
}

/** hdr's bucket arithmetic, which its JavaScript histogram (build()'s default) has and its typings leave out. */
interface BucketMath {
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/** Bucket arithmetic only: the histogram every loop builds, never recorded into. */
let shape: BucketMath | undefined;

/**
 * latencySummary of the histogram the (value µs, count) pairs would make, in ascending order of value as the native
 * flood hands them, in one pass over the pairs: hdr's own percentiles walk its 30,000-odd buckets once per figure
 * and its mean iterates them again, which for 200 grouped hosts' stats every 500 ms was most of their agents' CPU.
 * Each figure is hdr's (a value's bucket is the pair's; the percentile's count rounded as hdr rounds it).
 */
export function latencySummaryOfPairs(pairs: Float64Array): LatencySummary {
  shape ??= newLatencyHistogram() as unknown as BucketMath;
  let total = 0;
  for (let i = 1; i < pairs.length; i += 2) total += pairs[i]!;
  if (total === 0) return { p50: null, p90: null, p99: null, max: null, mean: null, count: 0 };
  // hdr: the count at a percentile rounded up, less one ulp of fp error, and at least the first entry.
  const countAt = (q: number) => {
    const fp = (q / 100) * total;
    return Math.max(Math.ceil(fp - 2 ** (Math.floor(Math.log2(fp)) - 52)), 1);
  };
  const wanted = [countAt(50), countAt(90), countAt(99)];
  const found: number[] = [];
  let running = 0;
  let sum = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    const value = pairs[i]!;
    const count = pairs[i + 1]!;
    running += count;
    sum += shape.medianEquivalentValue(value) * count;
    while (found.length < wanted.length && running >= wanted[found.length]!)
      found.push(shape.highestEquivalentValue(value));
  }
  const max = pairs[pairs.length - 2]!;
  return {
    p50: Math.min(found[0]!, max) / 1000,
    p90: Math.min(found[1]!, max) / 1000,
    p99: Math.min(found[2]!, max) / 1000,
    max: max / 1000,
    mean: sum / total / 1000,
    count: total,
  };
}

/** A latency histogram of µs, 1 µs to an hour at 3 significant digits: the same in every loop, so they merge. */
export const newLatencyHistogram = () =>
  hdrModule().build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

/** The request a flood sends on every connection: a GET, or a POST with a body of requestBodyBytes. */
export function floodRequest(plan: FloodPlan): Buffer {
  const o = plan.options;
  const connect = plan.connect!;
  return o.requestBodyBytes > 0
    ? Buffer.concat([
        Buffer.from(
          `POST ${o.path} HTTP/1.1\r\nHost: ${endpointText(connect.address, connect.port)}\r\nUser-Agent: waitlab\r\nContent-Length: ${o.requestBodyBytes}\r\n\r\n`,
        ),
        Buffer.alloc(o.requestBodyBytes, 'b'),
      ])
    : Buffer.from(
        `GET ${o.path} HTTP/1.1\r\nHost: ${endpointText(connect.address, connect.port)}\r\nUser-Agent: waitlab\r\n\r\n`,
      );
}

/** What a loop has counted, by whichever engine ran it. */
export interface LoopTally {
  attempts: number;
  connected: number;
  responses: number;
  ok: number;
  missedStarts: number;
  inFlight: number;
  held: number;
  peerClosed: number;
  lateWrites: number;
  /** Connections whose response was not in when the load ended (its duration ran out, or close()): closed then. */
  cutAtLoadEnd: number;
  /** Connected sockets the client gave up (an idle timeout, the load's end) and closed by RST: closeStyle rst. */
  resetOnGiveUp: number;
  windowConnected: number;
  statuses: Record<string, number>;
  errors: Record<string, ErrorCount>;
  errorCount: number;
  first: { code: string; syscall: string | null; atMs: number } | null;
  connectedBeforeFirstError: number;
}

/** One loop's stats, the same from either engine; `endedAt` is the run clock when the load ended (or now). */
export function loopStats(plan: FloodPlan, t: LoopTally, latency: LatencySummary, startedAt: number, endedAt: number) {
  const o = plan.options;
  const connect = plan.connect!;
  const runMs = endedAt - startedAt;
  const windowMs = Math.min(RATE_WINDOW_MS, runMs);
  return {
    model: o.model,
    workers: 1,
    targetRate: o.model === 'open' ? o.rate : null,
    target: `${endpointText(connect.address, connect.port)}`,
    startedAtMs: startedAt,
    durationMs: runMs,
    attempts: t.attempts,
    connected: t.connected,
    responses: t.responses,
    ok: t.ok,
    missedStarts: t.missedStarts,
    inFlight: t.inFlight,
    held: t.held,
    peerClosed: t.peerClosed,
    lateWrites: t.lateWrites,
    cutAtLoadEnd: t.cutAtLoadEnd,
    resetOnGiveUp: t.resetOnGiveUp,
    statuses: t.statuses,
    errors: t.errors,
    errorCount: t.errorCount,
    firstError: t.first && { ...t.first, afterStartMs: t.first.atMs - startedAt },
    connectedBeforeFirstError: t.connectedBeforeFirstError,
    achievedRate: runMs > 0 ? (t.attempts / runMs) * 1000 : 0,
    /** New connections per second over the flood's first second (or its whole run if shorter). */
    connectRate: windowMs > 0 ? (t.windowConnected / windowMs) * 1000 : 0,
    connectRateWindowMs: windowMs,
    latencyMs: latency,
  };
}

export type FloodStats = ReturnType<typeof loopStats>;

export function floodLoop(
  plan: FloodPlan,
  ctx: ActorContext,
  share: LoopShare = { phaseMs: 0, firstError: new FirstErrorMark() },
) {
  const o = plan.options;
  const allowHalfOpen = o.closeStyle === 'never' || o.writeAfterPeerClose > 0;
  const lateTimers = new Set<NodeJS.Timeout>();
  const setup: FloodConnectionSetup = {
    options: o,
    connect: plan.connect!,
    request: floodRequest(plan),
    lateData: Buffer.alloc(o.writeAfterPeerClose, 'l'),
    allowHalfOpen,
    lateTimers,
  };
  const tallies = new FloodTallies(ctx.now, share.firstError, newLatencyHistogram(), parseExpect(o.expect));
  const connections = new Set<FloodConnection>();
  let startedAt = 0; // run clock
  let startMono = 0; // performance.now() at start
  let endedAt: number | undefined;
  let stopping = false;
  let deadline: NodeJS.Timeout | undefined;
  let cutTimer: NodeJS.Timeout | undefined;
  let arrivals: { stop(): void } | undefined;
  const ended = deferred();
  const done = ended.promise;

  const elapsed = () => performance.now() - startMono;
  const countReached = () => o.count !== undefined && tallies.attempts + tallies.missedStarts >= o.count;
  const limitReached = () => elapsed() >= o.duration || countReached();

  const settle = () => {
    if (!stopping || tallies.inFlight > 0) return;
    clearTimeout(deadline);
    clearTimeout(cutTimer);
    ended.resolve();
  };

  // No new start; the connections in flight go on until they finish or the load ends.
  const finishLoad = () => {
    if (endedAt !== undefined) return;
    stopping = true;
    arrivals?.stop();
    endedAt = ctx.now();
    settle();
  };

  // The load's end bounds every connection: a server that trickles a byte now and then keeps idleTimeout from
  // firing, so whatever is still in flight one idleTimeout after the duration (or at close()) is closed here and
  // counted as cut. A connection that makes progress gets that long to finish, as an idle one always had.
  const endLoad = () => {
    finishLoad();
    clearTimeout(cutTimer);
    for (const connection of connections) connection.cut();
  };

  const events: FloodConnectionEvents = {
    held() {
      tallies.held++;
      tallies.inFlight--;
      settle();
    },
    closed(connection) {
      connections.delete(connection);
      if (connection.held) return;
      tallies.inFlight--;
      if (stopping) settle();
      else if (o.model === 'closed') {
        if (limitReached()) finishLoad();
        else attempt();
      }
    },
  };

  const attempt = () => {
    tallies.attempts++;
    tallies.inFlight++;
    connections.add(new FloodConnection(setup, tallies, events, ctx.now(), elapsed() < RATE_WINDOW_MS));
  };

  const destroyAll = () => {
    for (const t of lateTimers) clearTimeout(t);
    for (const connection of connections) connection.socket.destroy();
  };

  return {
    /** Latencies in µs: merged across loops by short-conn-workers.ts. */
    latency: tallies.latency,
    done,
    async start() {
      startedAt = ctx.now();
      startMono = performance.now();
      // The open model's schedule ends the load itself once a start falls due past the duration (a deadline timer
      // could cut off starts a busy event loop reached late).
      if (o.model !== 'open') deadline = setTimeout(finishLoad, o.duration);
      cutTimer = setTimeout(endLoad, o.duration + o.idleTimeout);
      if (o.model === 'open') {
        arrivals = runArrivals({
          rate: o.rate,
          maxLatenessMs: o.maxLateness,
          maxInFlight: o.maxInFlight,
          // A worker's share of one schedule: its starts fall between the other workers' ones.
          elapsed: () => elapsed() - share.phaseMs,
          limitReached: (dueMs) => dueMs + share.phaseMs >= o.duration || countReached(),
          inFlight: () => tallies.inFlight,
          start: attempt,
          missed: () => tallies.missedStarts++,
          finish: finishLoad,
        });
      } else {
        for (let k = 0; k < o.concurrency && !limitReached(); k++) attempt();
      }
    },
    async close() {
      endLoad();
      await done;
      destroyAll();
    },
    destroy() {
      finishLoad();
      clearTimeout(deadline);
      clearTimeout(cutTimer);
      destroyAll();
    },
    stats() {
      return loopStats(plan, tallies.snapshot(), latencySummary(tallies.latency), startedAt, endedAt ?? ctx.now());
    },
  };
}
