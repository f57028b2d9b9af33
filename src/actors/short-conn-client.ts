// A flood of short connections: one new TCP connection per request (short-conn-loop.ts), on one event loop or, with
// `workers`, on several threads sharing one load and one tally (short-conn-workers.ts).
import { defineActorKind } from './actor.ts';
import { checkOwnAddress, resolveServer } from './link-helpers.ts';
import { shortConnOptions } from './short-conn-options.ts';
import { floodLoop } from './short-conn-loop.ts';
import { floodWorkers } from './short-conn-workers.ts';

export const shortConnClient = defineActorKind({
  kind: 'short-conn-client',
  role: 'load',
  describe: 'one new TCP connection per HTTP request, at a target rate (open) or concurrency (closed)',
  options: shortConnOptions,
  link(o, ctx, where, problems) {
    checkOwnAddress(o.localAddress, ctx, `${where}.localAddress`, problems);
    if (o.workers > 1 && o.model === 'closed' && o.concurrency < o.workers) problems.push(`${where}.workers: ${o.workers} workers need a concurrency of at least ${o.workers} (one connection each)`);
    if (o.workers > 1 && o.model === 'open' && o.maxInFlight < o.workers) problems.push(`${where}.workers: ${o.workers} workers need a maxInFlight of at least ${o.workers}`);
    if (o.workers > 1 && o.closeStyle === 'never') problems.push(`${where}.workers: held sockets (closeStyle never) stay on one event loop: use workers 1`);
    const connect = resolveServer(o.target, ctx, `${where}.target`, problems);
    return connect && { connect };
  },
  maxDurationMs: (o) => o.duration + o.idleTimeout,
  create(plan, ctx) {
    if (plan.options.workers === 1) {
      const { latency: _, ...loop } = floodLoop(plan, ctx);
      return loop;
    }
    return floodWorkers(plan, ctx);
  },
});
