// A flood of short connections: one new TCP connection per request (short-conn-loop.ts), on one event loop or, with
// `workers`, on several threads sharing one load and one tally (short-conn-workers.ts).
import { defineActorKind } from './actor.ts';
import { checkOwnAddress, resolveServer } from './link-helpers.ts';
import { checkExpect } from './expected-status.ts';
import { shortConnOptions } from './short-conn-options.ts';
import type { ValuesOf } from '../core/fields.ts';
import { FLOOD_ADDON_PATH, floodAddonBuilt } from './flood-addon.ts';
import { floodLoop } from './short-conn-loop.ts';
import { nativeFloodLoop } from './short-conn-native.ts';
import { floodWorkers } from './short-conn-workers.ts';

export const shortConnClient = defineActorKind({
  kind: 'short-conn-client',
  role: 'load',
  describe: 'one new TCP connection per HTTP request, at a target rate (open) or concurrency (closed)',
  options: shortConnOptions,
  link(o, ctx, where, problems) {
    checkOwnAddress(o.localAddress, ctx, `${where}.localAddress`, problems);
    if (o.workers > 1 && o.model === 'closed' && o.concurrency < o.workers)
      problems.push(
        `${where}.workers: ${o.workers} workers need a concurrency of at least ${o.workers} (one connection each)`,
      );
    if (o.workers > 1 && o.model === 'open' && o.maxInFlight < o.workers)
      problems.push(`${where}.workers: ${o.workers} workers need a maxInFlight of at least ${o.workers}`);
    if (o.workers > 1 && o.closeStyle === 'never')
      problems.push(`${where}.workers: held sockets (closeStyle never) stay on one event loop: use workers 1`);
    checkExpect(o.expect, `${where}.expect`, problems);
    if (o.engine === 'native') nativeEngineProblems(o, where, problems);
    const connect = resolveServer(o.target, ctx, `${where}.target`, problems, o.over);
    return connect && { connect };
  },
  connections: ({ options: o, connect }) => ({
    dials: [
      {
        to: connect,
        ...(o.localAddress !== undefined ? { sourceAddress: o.localAddress } : {}),
        localPorts:
          o.localPort !== undefined
            ? { from: 'fixed', port: o.localPort }
            : o.localAddress !== undefined
              ? { from: 'bind-before-connect', address: o.localAddress }
              : { from: 'range' },
        perRequest: { pooled: false },
        closer: o.closer,
        closeStyle: o.closeStyle,
        requestBodyBytes: o.requestBodyBytes,
        writesAfterPeerClose: o.writeAfterPeerClose > 0,
        giveUpAfterMs: o.idleTimeout,
      },
    ],
    load:
      o.model === 'open'
        ? {
            model: 'open',
            ratePerSec: o.rate,
            durationMs: o.duration,
            ...(o.count !== undefined ? { count: o.count } : {}),
          }
        : {
            model: 'closed',
            concurrency: o.concurrency,
            durationMs: o.duration,
            ...(o.count !== undefined ? { count: o.count } : {}),
          },
  }),
  maxDurationMs: (o) => o.duration + o.idleTimeout,
  create(plan, ctx) {
    // The native engine blocks its thread for a slice at a time: it always runs on worker threads, or, for a host
    // served from outside its namespace, on a thread the addon makes inside the host.
    if (ctx.namespace !== undefined) {
      if (plan.options.workers !== 1 || plan.options.engine !== 'native')
        throw new Error('a host served from outside its namespace runs only the native engine on one worker');
      const { latency: _, ...loop } = nativeFloodLoop(plan, ctx);
      return { ...loop, stats: () => ({ ...loop.stats(), workers: 1 }) };
    }
    if (plan.options.workers === 1 && plan.options.engine === 'node') {
      const { latency: _, ...loop } = floodLoop(plan, ctx);
      return loop;
    }
    return floodWorkers(plan, ctx);
  },
});

/** What the native engine does not do (it runs GETs on sockets connect() binds), and whether it was built. */
function nativeEngineProblems(o: ValuesOf<typeof shortConnOptions>, where: string, problems: string[]): void {
  const unsupported: [boolean, string][] = [
    [o.requestBodyBytes > 0, 'requestBodyBytes'],
    [o.writeAfterPeerClose > 0, 'writeAfterPeerClose'],
    [o.closeStyle === 'never', 'closeStyle never'],
    [o.localAddress !== undefined, 'localAddress'],
    [o.localPort !== undefined, 'localPort'],
    // It knows one expect set in C: 200-399 is ok, any other status an error HTTP_<status>.
    [o.expect !== '200-399', 'expect'],
  ];
  for (const [used, what] of unsupported)
    if (used) problems.push(`${where}.engine: the native engine does not do ${what}: use engine node`);
  if (!floodAddonBuilt())
    problems.push(
      `${where}.engine: the native engine's addon (${FLOOD_ADDON_PATH}) was not built at install (it needs a C compiler, make and python3): use engine node, or reinstall`,
    );
}
