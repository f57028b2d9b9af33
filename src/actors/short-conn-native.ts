// The flood's native engine on one worker thread: native/flood.c runs the loop in slices of SLICE_MS, and between
// slices this thread's event loop takes its messages (close, destroy) and reports stats. For a host served from
// outside its namespace (ctx.namespace), the addon runs the loop whole on a thread of its own inside the host
// instead, and this thread only reads its stats and asks it to stop. The stats and the latency
// histogram have the node engine's shape (short-conn-loop.ts), so workers merge them the same way.
import type * as hdr from 'hdr-histogram-js';
import { deferred } from '../core/deferred.ts';
import type { ActorContext } from './actor.ts';
import type { ErrorCount } from './error-tally.ts';
import { FirstErrorMark } from './first-error-mark.ts';
import { loadFloodAddon, type NativeFlood, type NativeFloodStats } from './flood-addon.ts';
import { namedNamespacePath } from '../sampler/sock-diag.ts';
import type { FloodPlan } from './short-conn-options.ts';
import {
  floodRequest,
  latencySummaryOfPairs,
  loopStats,
  newLatencyHistogram,
  type LoopShare,
} from './short-conn-loop.ts';

/** Long enough that the slices' own cost is nothing, short enough that a close or a stats report waits little. */
const SLICE_MS = 20;
const CLOSE_STYLE = { graceful: 0, rst: 1, close: 2 } as const;

/** Errors by code, each with its syscalls, and the loop's first: the node engine's ErrorTally shape. */
function errorsOf(s: NativeFloodStats) {
  const errors: Record<string, ErrorCount> = {};
  let first: { code: string; syscall: string | null; atMs: number } | null = null;
  for (const e of s.errors) {
    const entry = (errors[e.code] ??= { count: 0, syscalls: {}, firstAtMs: e.firstAtMs });
    entry.count += e.count;
    entry.firstAtMs = Math.min(entry.firstAtMs, e.firstAtMs);
    entry.syscalls[e.syscall] = (entry.syscalls[e.syscall] ?? 0) + e.count;
    if (e.first) first = { code: e.code, syscall: e.syscall, atMs: e.firstAtMs };
  }
  return { errors, first, errorCount: s.errors.reduce((a, e) => a + e.count, 0) };
}

function histogramOf(pairs: Float64Array): hdr.Histogram {
  const h = newLatencyHistogram();
  for (let i = 0; i < pairs.length; i += 2) h.recordValueWithCount(pairs[i]!, pairs[i + 1]!);
  return h;
}

export function nativeFloodLoop(
  plan: FloodPlan,
  ctx: ActorContext,
  share: LoopShare = { phaseMs: 0, firstError: new FirstErrorMark() },
) {
  const addon = loadFloodAddon();
  const o = plan.options;
  const connect = plan.connect!;
  // Kept for the flood's life: the addon writes the first-error mark through this view's memory.
  const markWords = share.firstError.words;
  const ended = deferred();
  let flood: NativeFlood | undefined;
  let startedAt = 0;
  // The latency pairs of the last stats() call: a report reads stats() and then latency, both from one snapshot.
  let lastPairs: Float64Array | undefined;

  const drive = () => {
    if (!flood) return;
    let finished: boolean;
    try {
      finished = addon.step(flood, SLICE_MS);
    } catch (err) {
      ctx.log('error', `native flood stopped: ${(err as Error).message}`);
      addon.destroy(flood);
      finished = true;
    }
    if (finished) ended.resolve();
    else setImmediate(drive);
  };

  const stats = () => {
    const s = flood ? addon.stats(flood) : undefined;
    if (!s) {
      const zero = {
        attempts: 0,
        connected: 0,
        responses: 0,
        ok: 0,
        missedStarts: 0,
        inFlight: 0,
        held: 0,
        peerClosed: 0,
        lateWrites: 0,
        cutAtLoadEnd: 0,
        resetOnGiveUp: 0,
        windowConnected: 0,
      };
      return {
        tally: { ...zero, statuses: {}, errors: {}, errorCount: 0, first: null, connectedBeforeFirstError: 0 },
        pairs: new Float64Array(0),
        endedAt: ctx.now(),
      };
    }
    const { errors, first, errorCount } = errorsOf(s);
    const tally = {
      ...s,
      held: 0,
      lateWrites: 0,
      errors,
      first,
      errorCount,
      connectedBeforeFirstError: share.firstError.count,
    };
    return {
      tally,
      pairs: s.latency,
      endedAt: s.endedAtMs >= 0 ? s.endedAtMs : s.startedAtMs + s.elapsedMs,
    };
  };

  return {
    get latency() {
      return histogramOf(lastPairs ?? stats().pairs);
    },
    done: ended.promise,
    async start() {
      startedAt = ctx.now();
      const family = connect.address.includes(':') ? 6 : 4;
      flood = addon.open(
        {
          family,
          address: connect.address,
          port: connect.port,
          openModel: o.model === 'open' ? 1 : 0,
          concurrency: o.concurrency,
          maxInFlight: o.maxInFlight,
          rate: o.rate,
          phaseMs: share.phaseMs,
          maxLatenessMs: o.maxLateness,
          durationMs: o.duration,
          count: o.count ?? -1,
          idleTimeoutMs: o.idleTimeout,
          closer: o.closer === 'client' ? 1 : 0,
          closeStyle: CLOSE_STYLE[o.closeStyle as keyof typeof CLOSE_STYLE],
          startRunMs: startedAt,
        },
        floodRequest(plan),
        markWords,
      );
      if (ctx.namespace === undefined) return void setImmediate(drive);
      if (!addon.runIn) throw new Error('the flood addon cannot enter a namespace (built before runIn): reinstall');
      addon.runIn(flood, namedNamespacePath(ctx.namespace), () => ended.resolve());
    },
    async close() {
      if (flood) addon.stop(flood);
      else ended.resolve();
      await ended.promise;
    },
    destroy() {
      if (flood) addon.destroy(flood);
      ended.resolve();
    },
    stats() {
      const { tally, pairs, endedAt } = stats();
      lastPairs = pairs;
      return loopStats(plan, tally, latencySummaryOfPairs(pairs), startedAt, endedAt);
    },
  };
}
