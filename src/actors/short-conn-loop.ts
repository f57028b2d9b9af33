// One event loop's flood of short connections: one new TCP connection per request. The hot path does no logging
// and allocates only what a connection needs, so the kernel (connect, port search, TIME_WAIT) is the bottleneck.
// With workers (short-conn-workers.ts) each thread runs one of these on its share of the load.
import { endpointText } from '../core/ipv6.ts';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { runArrivals } from './arrival-schedule.ts';
import type { ActorContext } from './actor.ts';
import { ErrorTally, type ErrorCount } from './error-tally.ts';
import { deferred } from '../core/deferred.ts';
import { FirstErrorMark } from './first-error-mark.ts';
import { parseExpect, tallyStatus } from './expected-status.ts';
import type { FloodPlan } from './short-conn-options.ts';

/** The first second of the flood measures its achieved rate, apart from any later failure. */
const RATE_WINDOW_MS = 1000;
const HEAD_END = Buffer.from('\r\n\r\n');
const LATE_WRITES = 5;
const LATE_WRITE_GAP_MS = 20;

/** A loop's share of a flood: its phase in the open model's schedule (ms), and the first-error mark all loops share. */
export interface LoopShare {
  phaseMs: number;
  firstError: FirstErrorMark;
}

/** Latency percentiles in ms from a histogram of µs. */
export function latencySummary(h: hdr.Histogram) {
  const p = (q: number) => (h.totalCount ? h.getValueAtPercentile(q) / 1000 : null);
  return { p50: p(50), p90: p(90), p99: p(99), max: h.totalCount ? h.maxValue / 1000 : null, mean: h.totalCount ? h.mean / 1000 : null, count: h.totalCount };
}

/** A latency histogram of µs, 1 µs to an hour at 3 significant digits: the same in every loop, so they merge. */
export const newLatencyHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** The request a flood sends on every connection: a GET, or a POST with a body of requestBodyBytes. */
export function floodRequest(plan: FloodPlan): Buffer {
  const o = plan.options;
  const connect = plan.connect!;
  return o.requestBodyBytes > 0
    ? Buffer.concat([
      Buffer.from(`POST ${o.path} HTTP/1.1\r\nHost: ${endpointText(connect.address, connect.port)}\r\nUser-Agent: waitlab\r\nContent-Length: ${o.requestBodyBytes}\r\n\r\n`),
      Buffer.alloc(o.requestBodyBytes, 'b'),
    ])
    : Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${endpointText(connect.address, connect.port)}\r\nUser-Agent: waitlab\r\n\r\n`);
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
  windowConnected: number;
  statuses: Record<string, number>;
  errors: Record<string, ErrorCount>;
  errorCount: number;
  first: { code: string; syscall: string | null; atMs: number } | null;
  connectedBeforeFirstError: number;
}

/** One loop's stats, the same from either engine; `endedAt` is the run clock when the load ended (or now). */
export function loopStats(plan: FloodPlan, t: LoopTally, latency: hdr.Histogram, startedAt: number, endedAt: number) {
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
    statuses: t.statuses,
    errors: t.errors,
    errorCount: t.errorCount,
    firstError: t.first && { ...t.first, afterStartMs: t.first.atMs - startedAt },
    connectedBeforeFirstError: t.connectedBeforeFirstError,
    achievedRate: runMs > 0 ? (t.attempts / runMs) * 1000 : 0,
    /** New connections per second over the flood's first second (or its whole run if shorter). */
    connectRate: windowMs > 0 ? (t.windowConnected / windowMs) * 1000 : 0,
    connectRateWindowMs: windowMs,
    latencyMs: latencySummary(latency),
  };
}

export type FloodStats = ReturnType<typeof loopStats>;

export function floodLoop(plan: FloodPlan, ctx: ActorContext, share: LoopShare = { phaseMs: 0, firstError: new FirstErrorMark() }) {
  const mark = share.firstError;
  const o = plan.options;
  const connect = plan.connect!;
  const request = floodRequest(plan);
  const lateData = Buffer.alloc(o.writeAfterPeerClose, 'l');
  // Holding a socket, or writing after the peer's FIN, needs our side to stay open when that FIN arrives.
  const allowHalfOpen = o.closeStyle === 'never' || o.writeAfterPeerClose > 0;
  const latency = newLatencyHistogram();
  const errors = new ErrorTally(ctx.now);
  const expectedStatus = parseExpect(o.expect);
  const statuses = new Map<number, number>();
  const c = { attempts: 0, connected: 0, responses: 0, ok: 0, missedStarts: 0, inFlight: 0, windowConnected: 0, held: 0, peerClosed: 0, lateWrites: 0, cutAtLoadEnd: 0 };
  const noteError = (err: NodeJS.ErrnoException | { code: string; syscall?: string }) => {
    errors.add(err);
    mark.error(ctx.now());
  };
  // Every open socket, with what closes it when the load ends (a held one is left to close()).
  const sockets = new Map<net.Socket, () => void>();
  const lateTimers = new Set<NodeJS.Timeout>();
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
  const limitReached = () => elapsed() >= o.duration || (o.count !== undefined && c.attempts + c.missedStarts >= o.count);

  const settle = () => {
    if (!stopping || c.inFlight > 0) return;
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
    for (const cut of sockets.values()) cut();
  };

  const attempt = () => {
    c.attempts++;
    c.inFlight++;
    const t0 = performance.now();
    const begunAt = ctx.now();
    let head = -1;
    let expected = -1;
    let received = 0;
    let completed = false;
    let held = false;
    let chunks: Buffer[] = [];
    // With localAddress/localPort node binds before connecting: bind() then picks the port, and a port
    // bound that way cannot be shared across destinations (EADDRINUSE instead of EADDRNOTAVAIL).
    // The request is one write: Nagle's algorithm can only hold back the late writes, so only they need TCP_NODELAY
    // (a setsockopt() per connection saved otherwise).
    const sock = net.connect({ host: connect.address, port: connect.port, noDelay: o.writeAfterPeerClose > 0, localAddress: o.localAddress, localPort: o.localPort, allowHalfOpen });
    sockets.set(sock, () => {
      if (held || sock.destroyed) return;
      if (!completed) c.cutAtLoadEnd++;
      sock.destroy();
    });
    sock.setTimeout(o.idleTimeout);

    sock.once('connect', () => {
      c.connected++;
      mark.connected(begunAt);
      if (t0 - startMono < RATE_WINDOW_MS) c.windowConnected++;
      sock.write(request);
    });
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (head === -1) {
        chunks.push(chunk);
        const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        chunks = [all];
        head = all.indexOf(HEAD_END);
        if (head === -1) return;
        const headText = all.toString('latin1', 0, head);
        const status = Number(headText.slice(9, 12));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        // ok counts expected statuses only: another (a 502) is an error of the flood, code HTTP_<status>.
        if (tallyStatus(status, expectedStatus, errors)) c.ok++;
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(headText)?.[1];
        expected = length === undefined ? -1 : head + HEAD_END.length + Number(length);
        chunks = [];
        if (expected === -1) return; // body until EOF
      }
      if (expected !== -1 && received >= expected) complete();
    });
    const complete = () => {
      if (completed) return;
      completed = true;
      c.responses++;
      latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      // The client closes first: its socket goes to FIN_WAIT1/2 and then TIME_WAIT, on the client host.
      if (o.closeStyle === 'never') return hold();
      if (o.closer === 'client') {
        if (o.closeStyle === 'graceful') sock.end();
        else if (o.closeStyle === 'rst') sock.resetAndDestroy();
        else sock.destroy();
      }
      // closer 'server': wait for its FIN; without allowHalfOpen node ends our side on 'end'.
    };
    // The load goes on as if this connection were done; the socket stays open until close()/destroy().
    const hold = () => {
      held = true;
      c.held++;
      c.inFlight--;
      sock.setTimeout(0);
      settle();
    };
    const writeLate = (left: number) => {
      if (sock.destroyed) return;
      c.lateWrites++;
      sock.write(lateData);
      if (left > 1) {
        const t = setTimeout(() => (lateTimers.delete(t), writeLate(left - 1)), LATE_WRITE_GAP_MS);
        lateTimers.add(t);
      } else if (o.closeStyle !== 'never') sock.destroy();
    };
    sock.on('end', () => {
      c.peerClosed++;
      if (head !== -1 && expected === -1) complete(); // a body delimited by EOF
      // The server closed before a response began: a lost request (nginx out of worker_connections closes what it
      // accepted; with the request unread that is an RST, ECONNRESET, else this FIN).
      else if (head === -1) noteError({ code: 'EOF_BEFORE_RESPONSE', syscall: 'read' });
      if (o.writeAfterPeerClose > 0) writeLate(LATE_WRITES);
      // The server closed first, the response is in and the request (a GET, sent whole long before) is not still
      // going out: close(2) sends our FIN (LAST_ACK) as shutdown() then close() would, with one syscall and no
      // stream ending of node's in between. An upload still being written keeps the shutdown, so the RST that a
      // server closing with it unread sends still reaches it as ECONNRESET.
      else if (o.closer === 'server' && completed && !allowHalfOpen && o.requestBodyBytes === 0) sock.destroy();
    });
    sock.on('timeout', () => {
      noteError({ code: 'REQUEST_TIMEOUT', syscall: 'none' });
      sock.destroy();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => noteError(err));
    sock.on('close', () => {
      sockets.delete(sock);
      if (held) return;
      c.inFlight--;
      if (stopping) settle();
      else if (o.model === 'closed') {
        if (limitReached()) finishLoad();
        else attempt();
      }
    });
  };

  const runOpen = () => {
    arrivals = runArrivals({
      rate: o.rate,
      maxLatenessMs: o.maxLateness,
      maxInFlight: o.maxInFlight,
      // A worker's share of one schedule: its starts fall between the other workers' ones.
      elapsed: () => elapsed() - share.phaseMs,
      limitReached,
      inFlight: () => c.inFlight,
      start: attempt,
      missed: () => c.missedStarts++,
      finish: finishLoad,
    });
  };

  const runClosed = () => {
    for (let k = 0; k < o.concurrency && !limitReached(); k++) attempt();
  };

  return {
    /** Latencies in µs: merged across loops by short-conn-workers.ts. */
    latency,
    done,
    async start() {
      startedAt = ctx.now();
      startMono = performance.now();
      deadline = setTimeout(finishLoad, o.duration);
      cutTimer = setTimeout(endLoad, o.duration + o.idleTimeout);
      if (o.model === 'open') runOpen();
      else runClosed();
    },
    async close() {
      endLoad();
      await done;
      for (const t of lateTimers) clearTimeout(t);
      for (const sock of sockets.keys()) sock.destroy();
    },
    destroy() {
      finishLoad();
      clearTimeout(deadline);
      clearTimeout(cutTimer);
      for (const t of lateTimers) clearTimeout(t);
      for (const sock of sockets.keys()) sock.destroy();
    },
    stats() {
      return loopStats(plan, { ...c, statuses: Object.fromEntries(statuses), errors: errors.toJSON(), errorCount: errors.total, first: errors.first, connectedBeforeFirstError: mark.count }, latency, startedAt, endedAt ?? ctx.now());
    },
  };
}
