// A flood on several worker threads, for where one event loop is the limit: each runs a loop (short-conn-loop.ts) on
// its share of one load (the open model's schedule interleaved, the concurrency and the count split with nothing
// lost), the connections made before the first error are counted in memory they share, and their stats and latency
// histograms are merged into the one actor's stats: counts summed, errors by code summed, the first error the
// earliest of all, latency percentiles from the merged histogram.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type * as hdr from 'hdr-histogram-js';
import { hdrModule } from './hdr-module.ts';
import { deferred } from '../core/deferred.ts';
import type { ActorContext } from './actor.ts';
import type { ErrorCount } from './error-tally.ts';
import type { FloodPlan } from './short-conn-options.ts';
import { FirstErrorMark } from './first-error-mark.ts';
import { floodLoop, latencySummary, newLatencyHistogram, type FloodStats } from './short-conn-loop.ts';

export interface WorkerInput {
  plan: FloodPlan;
  /** The run's zero as epoch ms: every worker stamps on the agent's clock. */
  zeroEpochMs: number;
  phaseMs: number;
  /** The FirstErrorMark's memory. */
  shared: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'stats' | 'done'; stats: FloodStats; latency: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown> };

/** Worker i of n's share of a flood: what is counted split with the remainder on the first workers, the rate evenly. */
export function shareOf(plan: FloodPlan, i: number, n: number): { plan: FloodPlan; phaseMs: number } {
  const o = plan.options;
  const split = (total: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
  const options = {
    ...o,
    workers: 1,
    concurrency: split(o.concurrency),
    maxInFlight: split(o.maxInFlight),
    rate: o.rate / n,
    count: o.count === undefined ? undefined : split(o.count),
  };
  // Worker i takes starts i, i + n, i + 2n, ... of the one schedule at o.rate.
  return { plan: { ...plan, options }, phaseMs: o.model === 'open' ? (i * 1000) / o.rate : 0 };
}

function mergeErrors(parts: readonly FloodStats[]): Record<string, ErrorCount> {
  const out: Record<string, ErrorCount> = {};
  for (const part of parts) {
    for (const [code, e] of Object.entries(part.errors)) {
      const m = (out[code] ??= { count: 0, syscalls: {}, firstAtMs: e.firstAtMs });
      m.count += e.count;
      m.firstAtMs = Math.min(m.firstAtMs, e.firstAtMs);
      for (const [syscall, n] of Object.entries(e.syscalls)) m.syscalls[syscall] = (m.syscalls[syscall] ?? 0) + n;
    }
  }
  return out;
}

/** One actor's stats from its workers' (each read connectedBeforeFirstError from the one mark they share). */
export function mergeFloodStats(plan: FloodPlan, parts: readonly FloodStats[], latency: hdr.Histogram): FloodStats {
  const sum = (
    k:
      | 'attempts'
      | 'connected'
      | 'responses'
      | 'ok'
      | 'missedStarts'
      | 'inFlight'
      | 'held'
      | 'peerClosed'
      | 'lateWrites'
      | 'cutAtLoadEnd'
      | 'resetOnGiveUp'
      | 'errorCount'
      | 'achievedRate'
      | 'connectRate',
  ) => parts.reduce((a, p) => a + p[k], 0);
  const statuses: Record<string, number> = {};
  for (const p of parts)
    for (const [status, n] of Object.entries(p.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const first =
    parts
      .map((p) => p.firstError)
      .filter((e) => e !== null)
      .sort((a, b) => a.atMs - b.atMs)[0] ?? null;
  const startedAtMs = Math.min(...parts.map((p) => p.startedAtMs));
  return {
    ...parts[0]!,
    workers: parts.length,
    targetRate: plan.options.model === 'open' ? plan.options.rate : null,
    startedAtMs,
    durationMs: Math.max(...parts.map((p) => p.startedAtMs + p.durationMs)) - startedAtMs,
    attempts: sum('attempts'),
    connected: sum('connected'),
    responses: sum('responses'),
    ok: sum('ok'),
    missedStarts: sum('missedStarts'),
    inFlight: sum('inFlight'),
    held: sum('held'),
    peerClosed: sum('peerClosed'),
    lateWrites: sum('lateWrites'),
    cutAtLoadEnd: sum('cutAtLoadEnd'),
    resetOnGiveUp: sum('resetOnGiveUp'),
    statuses,
    errors: mergeErrors(parts),
    errorCount: sum('errorCount'),
    firstError: first && { ...first, afterStartMs: first.atMs - startedAtMs },
    connectedBeforeFirstError: Math.max(...parts.map((p) => p.connectedBeforeFirstError)),
    // Each worker's rate over the same span of the run: the load's rate is their sum.
    achievedRate: sum('achievedRate'),
    connectRate: sum('connectRate'),
    connectRateWindowMs: Math.min(...parts.map((p) => p.connectRateWindowMs)),
    latencyMs: latencySummary(latency),
  };
}

/** The flood on plan.options.workers threads, as one actor. */
export function floodWorkers(plan: FloodPlan, ctx: ActorContext) {
  const n = plan.options.workers;
  const shared = new SharedArrayBuffer(FirstErrorMark.BYTES);
  const zeroEpochMs = performance.timeOrigin + performance.now() - ctx.now();
  // The worker's module beside this one: .js from dist/, .ts under a TypeScript loader (execArgv passes it on).
  const entry = new URL(`./short-conn-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  const latest: { stats: FloodStats; latency: string }[] = [];
  const finished = new Set<number>();
  const ended = deferred();
  let workers: Worker[] = [];
  let failure: Error | undefined;

  // Before any worker has reported: the stats of a loop that has not started, all zero.
  const idle = floodLoop(plan, ctx);
  /** The workers' latest reports merged; exact once every worker has sent its last. */
  const merged = (): FloodStats => {
    const reports = latest.filter(Boolean);
    if (reports.length === 0) return { ...idle.stats(), workers: n };
    const latency = newLatencyHistogram();
    for (const l of reports) latency.add(hdrModule().decodeFromCompressedBase64(l.latency));
    return mergeFloodStats(
      plan,
      reports.map((l) => l.stats),
      latency,
    );
  };

  return {
    done: ended.promise,
    async start() {
      workers = Array.from({ length: n }, (_, i) => {
        const { plan: part, phaseMs } = shareOf(plan, i, n);
        const input: WorkerInput = { plan: part, zeroEpochMs, phaseMs, shared };
        const w = new Worker(entry, { workerData: input, execArgv: process.execArgv });
        w.on('message', (m: WorkerMessage) => {
          if (m.type === 'log') return ctx.log(m.level, m.msg, { worker: i, ...m.data });
          latest[i] = { stats: m.stats, latency: m.latency };
          if (m.type === 'done') finished.add(i);
          if (finished.size === n) ended.resolve();
        });
        w.on('error', (err) => {
          failure ??= err;
          ctx.log('error', `flood worker ${i} failed: ${err.message}`);
        });
        // A worker that exits without reporting its end ends the flood: its share is lost, and the log says so.
        w.on('exit', (code) => {
          if (!finished.has(i)) {
            ctx.log('error', `flood worker ${i} exited (${code}) before its load was done`);
            finished.add(i);
            if (finished.size === n) ended.resolve();
          }
        });
        return w;
      });
    },
    async close() {
      for (const w of workers) w.postMessage('close');
      await ended.promise;
      await Promise.all(workers.map((w) => w.terminate()));
      if (failure) throw failure;
    },
    destroy() {
      for (const w of workers) w.postMessage('destroy');
      void Promise.all(workers.map((w) => w.terminate()));
    },
    stats: merged,
  };
}
