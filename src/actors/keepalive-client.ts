// Keep-alive load with autocannon: a few connections carry every request, at a bounded overall rate.
// Beside a short-conn-client at the same rate it shows what keep-alive saves: new connections per
// request, and the TIME_WAIT they leave.
import { endpointText } from '../core/ipv6.ts';
import type { Instance, Result } from 'autocannon';
import { f } from '../core/fields.ts';
import { defineActorKind } from './actor.ts';
import { ErrorTally } from './error-tally.ts';
import { resolveServer } from './link-helpers.ts';
import { deferred } from '../core/deferred.ts';
import { checkExpect, expectOption, parseExpect, tallyStatus } from './expected-status.ts';

const options = {
  target: f.string({ describe: 'name of the server actor to send to' }),
  path: f.string({ default: '/', describe: 'request path' }),
  connections: f.int({ min: 1, max: 1000, default: 2, describe: 'kept-alive connections that carry the requests' }),
  rate: f.rate({
    default: '100/s',
    max: 100_000,
    describe: 'requests per second over all connections (autocannon overallRate)',
  }),
  duration: f.duration({ default: '5s', min: '10ms', max: '1h', describe: 'how long the load runs' }),
  count: f.optional(
    f.int({
      min: 1,
      max: 10_000_000,
      describe: 'stop after this many requests (autocannon amount; at least `connections`)',
    }),
  ),
  timeout: f.duration({ default: '5s', describe: 'a response slower than this counts as REQUEST_TIMEOUT' }),
  expect: expectOption,
};

export const keepaliveClient = defineActorKind({
  kind: 'keepalive-client',
  role: 'load',
  describe: 'keep-alive HTTP load with autocannon: a few long-lived connections at a bounded request rate',
  options,
  link(o, ctx, where, problems) {
    if (o.count !== undefined && o.count < o.connections)
      problems.push(
        `${where}.count: ${o.count} is below connections (${o.connections}); autocannon needs one request per connection at least`,
      );
    checkExpect(o.expect, `${where}.expect`, problems);
    const connect = resolveServer(o.target, ctx, `${where}.target`, problems);
    return connect && { connect };
  },
  connections: ({ options: o, connect }) => ({
    // autocannon destroys its sockets when the load ends (close(2)): the client closes first.
    dials: [
      {
        to: connect,
        localPorts: { from: 'range' },
        perRequest: { pooled: true, connections: o.connections, beyondPool: { request: 'waits' } },
        closer: 'client',
        closeStyle: 'close',
        requestBodyBytes: 0,
        writesAfterPeerClose: false,
      },
    ],
    load: {
      model: 'open',
      ratePerSec: o.rate,
      durationMs: o.duration,
      ...(o.count !== undefined ? { count: o.count } : {}),
    },
  }),
  maxDurationMs: (o) => o.duration + o.timeout,
  create(plan, ctx) {
    const o = plan.options;
    const connect = plan.connect!;
    const errors = new ErrorTally(ctx.now);
    const expected = parseExpect(o.expect);
    let instance: Instance | undefined;
    let result: Result | undefined;
    let startedAt = 0;
    let endedAt: number | undefined;
    let responses = 0;
    let ok = 0;
    let failed = 0;
    const ended = deferred();
    const done = ended.promise;

    return {
      done,
      async start() {
        // Loaded when the load starts, not when the agent does: autocannon costs an agent ~0.2 s of start-up.
        const { default: autocannon } = await import('autocannon');
        startedAt = ctx.now();
        instance = autocannon(
          {
            url: `http://${endpointText(connect.address, connect.port)}${o.path}`,
            connections: o.connections,
            overallRate: o.rate,
            duration: o.duration / 1000,
            ...(o.count !== undefined ? { amount: o.count } : {}),
            timeout: o.timeout / 1000,
          },
          (err, res) => {
            if (err) errors.add({ code: 'AUTOCANNON', syscall: 'none' });
            result = res;
            endedAt = ctx.now();
            ended.resolve();
          },
        );
        instance.on('response', (_client: unknown, statusCode: number) => {
          responses++;
          if (tallyStatus(statusCode, expected, errors)) ok++;
        });
        instance.on(
          'reqError',
          (err: NodeJS.ErrnoException) => (
            failed++, errors.add(err.code ? err : { code: 'REQUEST_TIMEOUT', syscall: 'none' })
          ),
        );
      },
      async close() {
        instance?.stop();
        await done;
      },
      destroy() {
        instance?.stop();
      },
      stats() {
        const runMs = (endedAt ?? ctx.now()) - startedAt;
        return {
          model: 'keep-alive',
          targetRate: o.rate,
          target: `${endpointText(connect.address, connect.port)}`,
          connections: o.connections,
          startedAtMs: startedAt,
          durationMs: runMs,
          // Requests that ended, with a response (its status an error or not) or without one (autocannon's own "sent" counts ahead).
          attempts: responses + failed,
          responses,
          ok,
          missedStarts: 0,
          errors: errors.toJSON(),
          errorCount: errors.total,
          firstError: errors.first && { ...errors.first, afterStartMs: errors.first.atMs - startedAt },
          achievedRate: runMs > 0 ? (responses / runMs) * 1000 : 0,
          latencyMs: result
            ? {
                p50: result.latency.p50,
                p90: result.latency.p90,
                p99: result.latency.p99,
                max: result.latency.max,
                mean: result.latency.average,
              }
            : null,
        };
      },
    };
  },
});
