// A keep-alive pool as a client: `connections` sockets carry the requests, each closed once idle for
// keepAliveTimeout (or the server's Keep-Alive hint). The pool is undici's (http-client-undici.ts: a request
// that finds every socket busy waits) or Node's http.Agent (http-client-node-agent.ts: it opens another, and keeps
// only maxIdle idle). Arrivals follow the open model (arrival-schedule.ts) with bursts, jitter and idle gaps, or the
// closed model with think time (think-time-users.ts: users paced by the answers), so pooled connections can be made
// to sit idle for as long as a server's idle timeout (the keep-alive race), or come many at once (a pool smaller
// than the load). New and reused connections, and errors on reused ones, are
// counted apart.
import { endpointText } from '../core/ipv6.ts';
import type { BeyondPool, OfferedLoad } from '../core/connection-model.ts';
import { f } from '../core/fields.ts';
import { deferred } from '../core/deferred.ts';
import { defineActorKind } from './actor.ts';
import { parseBurst, parseIdle, runArrivals, type ArrivalPattern } from './arrival-schedule.ts';
import { ErrorTally } from './error-tally.ts';
import { nodeAgentPool } from './http-client-node-agent.ts';
import type { PoolEvents, RequestPool } from './http-client-pool.ts';
import { undiciPool } from './http-client-undici.ts';
import { runThinkTimeUsers } from './think-time-users.ts';
import { checkExpect, expectOption, parseExpect, tallyStatus } from './expected-status.ts';
import { resolveServer } from './link-helpers.ts';
import { latencySummary, newLatencyHistogram } from './short-conn-loop.ts';

const options = {
  target: f.string({ describe: 'name of the server actor to send to' }),
  client: f.oneOf(['undici', 'node'] as const, {
    default: 'undici',
    describe:
      'the pool: undici (a busy pool makes requests wait) or node (http.Agent: a busy pool opens more, and keeps maxIdle idle)',
  }),
  maxIdle: f.optional(
    f.int({
      min: 0,
      max: 1000,
      describe:
        "client node only: idle connections kept (http.Agent maxFreeSockets, Go's MaxIdleConnsPerHost); one freed beyond them is closed. Default: connections",
    }),
  ),
  path: f.string({ default: '/', describe: 'request path' }),
  method: f.oneOf(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const, {
    default: 'GET',
    describe: 'HTTP method',
  }),
  body: f.optional(f.string({ describe: 'request body, sent with Content-Length (not with GET or HEAD)' })),
  connections: f.int({
    min: 1,
    max: 1000,
    default: 2,
    describe: 'most connections of the pool (undici Pool connections, http.Agent maxSockets)',
  }),
  pipelining: f.int({
    min: 0,
    max: 100,
    default: 1,
    describe:
      'client undici only: requests in flight per connection (0: a new connection per request, closed after it)',
  }),
  keepAliveTimeout: f.duration({
    default: '4s',
    describe:
      'idle time after which the pool closes a connection (undici keepAliveTimeout), where the server sends no Keep-Alive hint',
  }),
  keepAliveMaxTimeout: f.duration({
    default: '600s',
    describe: "most idle time a server's Keep-Alive: timeout hint may set (undici keepAliveMaxTimeout)",
  }),
  rate: f.rate({
    default: '10/s',
    max: 100_000,
    describe: 'requests per second (open model); replaced by burst or users',
  }),
  users: f.optional(
    f.int({
      min: 1,
      max: 1000,
      describe:
        'closed model instead of a rate: this many users, each sending a request, waiting for its response, then `think`, then the next (k6 constant-vus with a sleep); jitter spreads their first starts',
    }),
  ),
  think: f.duration({
    default: 0,
    describe: 'closed model (users): the wait between a response and the next request, later by up to jitter',
  }),
  pace: f.oneOf(['user', 'round'] as const, {
    default: 'user',
    describe:
      "closed model (users): user: each user goes again `think` after its own response; round: the users go again together `think` after the round's first expected answer (each once it has its own)",
  }),
  burst: f.optional(f.string({ describe: 'bursts instead of a constant rate: "40 every 5s"' })),
  jitter: f.duration({
    default: 0,
    describe: 'each start later by a uniform random time below this (seeded: a run repeats)',
  }),
  idle: f.optional(f.string({ describe: 'idle gaps: "6s every 20" pauses 6 s after every 20 starts' })),
  maxInFlight: f.int({
    min: 1,
    default: 1000,
    describe: 'a start due while this many requests are in flight is missed, not delayed',
  }),
  maxLateness: f.duration({
    default: '50ms',
    describe: 'a start this late (event loop stalled) is missed, not made up',
  }),
  duration: f.duration({ default: '5s', min: '10ms', max: '1h', describe: 'how long requests start' }),
  count: f.optional(
    f.int({ min: 1, max: 10_000_000, describe: 'stop after this many scheduled starts, missed ones included' }),
  ),
  timeout: f.duration({
    default: '5s',
    describe: 'a response slower than this fails (undici headers and body timeouts)',
  }),
  retries: f.int({
    min: 0,
    max: 10,
    default: 0,
    describe: 'retries of a failed request (undici retry interceptor: 5xx, 429 and socket errors); 0: none',
  }),
  expect: expectOption,
};

/** undici's keepAliveTimeoutThreshold default: it closes an idle connection this long before a server's Keep-Alive hint. */
const UNDICI_HINT_MARGIN_MS = 2_000;

type ErrorsByCode = ReturnType<ErrorTally['toJSON']>;

type HttpClientStats = {
  model: 'pool';
  target: string;
  connections: number;
  targetRate: number | null;
  startedAtMs: number;
  durationMs: number;
  attempts: number;
  responses: number;
  ok: number;
  statuses: Record<string, number>;
  missedStarts: number;
  inFlight: number;
  /** Connections the pool opened. */
  newConnections: number;
  /** Requests written on a connection that had carried one before. */
  requestsOnReused: number;
  errors: ErrorsByCode;
  errorCount: number;
  /** Errors of requests written on a reused connection (undici UND_ERR_SOCKET "other side closed", ECONNRESET, ...). */
  errorsOnReused: ErrorsByCode;
  /** Failed tries written on a reused connection, each counted: one the retry interceptor sent again too. */
  errorsOnReusedCount: number;
  firstError: { code: string; syscall: string | null; atMs: number; afterStartMs: number } | null;
  achievedRate: number;
  latencyMs: ReturnType<typeof latencySummary>;
};

function patternOf(
  o: { burst?: string | undefined; jitter: number; idle?: string | undefined },
  seed: number,
): ArrivalPattern {
  return {
    ...(o.burst !== undefined ? { burst: parseBurst(o.burst) } : {}),
    ...(o.idle !== undefined ? { idle: parseIdle(o.idle) } : {}),
    ...(o.jitter > 0 ? { jitterMs: o.jitter } : {}),
    seed,
  };
}

/**
 * A request that finds the pool busy: undici waits; Node's http.Agent opens another (up to connections) and keeps
 * maxIdle idle, closing the rest as they are freed.
 */
function beyondPool(o: { client: string; connections: number; maxIdle?: number | undefined }): BeyondPool {
  const idle = o.maxIdle ?? o.connections;
  return o.client === 'node' && idle < o.connections
    ? { request: 'opens-and-closes', idleKept: idle, most: o.connections }
    : { request: 'waits' };
}

function loadOf(o: {
  burst?: string | undefined;
  users?: number | undefined;
  rate: number;
  duration: number;
  count?: number | undefined;
}): OfferedLoad {
  const burst = o.burst !== undefined ? parseBurst(o.burst) : undefined;
  const count = o.count !== undefined ? { count: o.count } : {};
  if (o.users !== undefined) return { model: 'closed', concurrency: o.users, durationMs: o.duration, ...count };
  if (!burst) return { model: 'open', ratePerSec: o.rate, durationMs: o.duration, ...count };
  return { model: 'open', ratePerSec: burst.size / (burst.everyMs / 1000), durationMs: o.duration, ...count, burst };
}

export const httpClient = defineActorKind({
  kind: 'http-client',
  role: 'load',
  describe:
    'undici keep-alive pool (connections, pipelining, idle timeouts) at a rate, in bursts, with jitter and idle gaps, or as users with think time; new vs reused connections counted',
  options,
  link(o, ctx, where, problems) {
    if (o.body !== undefined && (o.method === 'GET' || o.method === 'HEAD'))
      problems.push(`${where}.body: a ${o.method} request sends no body: use method POST, PUT, PATCH or DELETE`);
    for (const [key, parse] of [
      ['burst', parseBurst],
      ['idle', parseIdle],
    ] as const) {
      const raw = o[key];
      if (raw === undefined) continue;
      try {
        parse(raw);
      } catch (err) {
        problems.push(`${where}.${key}: ${(err as Error).message}`);
      }
    }
    checkExpect(o.expect, `${where}.expect`, problems);
    if (o.users !== undefined) {
      for (const key of ['burst', 'idle'] as const)
        if (o[key] !== undefined)
          problems.push(
            `${where}.${key}: an open-model pattern; users (the closed model) paces each request by the previous response instead`,
          );
      if (o.users > o.connections)
        problems.push(
          `${where}.users: ${o.users} users need as many connections (connections ${o.connections}), or their requests wait for one`,
        );
    } else if (o.think > 0) problems.push(`${where}.think: the closed model's wait: set users too`);
    if (o.client === 'node') {
      if (o.pipelining !== 1)
        problems.push(
          `${where}.pipelining: client undici only: Node's http.Agent sends one request at a time per connection`,
        );
      if (o.retries > 0) problems.push(`${where}.retries: client undici only (its retry interceptor)`);
    } else if (o.maxIdle !== undefined)
      problems.push(
        `${where}.maxIdle: client node only: undici's Pool keeps every connection it opened until keepAliveTimeout`,
      );
    const connect = resolveServer(o.target, ctx, `${where}.target`, problems);
    return connect && { connect };
  },
  connections: ({ options: o, connect }) => ({
    // Both pools close an idle connection, and every one when the pool closes, with socket.destroy(): close(2).
    // The pool's idle timeout is keepAliveTimeout where the server sends no Keep-Alive hint; undici replaces it by a
    // hint less its keepAliveTimeoutThreshold (2 s in undici 7); the retry interceptor retries this actor's one
    // method, whatever it is.
    dials: [
      {
        to: connect,
        localPorts: { from: 'range' },
        perRequest:
          o.pipelining === 0
            ? { pooled: false }
            : {
                pooled: true,
                connections: o.connections,
                idleTimeoutMs: o.keepAliveTimeout,
                ...(o.client === 'undici' ? { idleHintMarginMs: UNDICI_HINT_MARGIN_MS } : {}),
                beyondPool: beyondPool(o),
              },
        closer: 'client',
        closeStyle: 'close',
        requestBodyBytes: o.body === undefined ? 0 : Buffer.byteLength(o.body),
        writesAfterPeerClose: false,
        retries: o.retries > 0 ? 'all' : 'none',
      },
    ],
    load: loadOf(o),
  }),
  maxDurationMs: (o) => o.duration + (o.retries + 1) * o.timeout,
  create(plan, ctx) {
    const o = plan.options;
    const connect = plan.connect!;
    const origin = `http://${endpointText(connect.address, connect.port)}`;
    const expected = parseExpect(o.expect);
    const errors = new ErrorTally(ctx.now);
    const errorsOnReused = new ErrorTally(ctx.now);
    const latency = newLatencyHistogram();
    const statuses = new Map<number, number>();
    const c = {
      attempts: 0,
      responses: 0,
      ok: 0,
      missedStarts: 0,
      inFlight: 0,
      newConnections: 0,
      requestsOnReused: 0,
    };
    const ended = deferred();
    let startedAt = 0;
    let startMono = 0;
    let endedAt: number | undefined;
    let scheduleOver = false;
    let arrivals: { stop(): void } | undefined;

    const events: PoolEvents = {
      newConnection: () => c.newConnections++,
      requestOnReused: () => c.requestsOnReused++,
      errorOnReused: (err) => errorsOnReused.add({ code: err.code ?? 'UNKNOWN', syscall: err.syscall ?? 'none' }),
    };
    const request = { method: o.method, path: o.path, body: o.body };
    const pool: RequestPool =
      o.client === 'node'
        ? nodeAgentPool(
            {
              ...request,
              address: connect.address,
              port: connect.port,
              connections: o.connections,
              maxIdle: o.maxIdle ?? o.connections,
              keepAliveTimeout: o.keepAliveTimeout,
              timeout: o.timeout,
            },
            events,
          )
        : undiciPool(
            {
              ...request,
              origin,
              connections: o.connections,
              pipelining: o.pipelining,
              keepAliveTimeout: o.keepAliveTimeout,
              keepAliveMaxTimeout: o.keepAliveMaxTimeout,
              timeout: o.timeout,
              retries: o.retries,
            },
            events,
          );

    const settle = () => {
      if (!scheduleOver || c.inFlight > 0 || endedAt !== undefined) return;
      endedAt = ctx.now();
      ended.resolve();
    };
    const elapsed = () => performance.now() - startMono;
    const scheduled = () => c.attempts + c.missedStarts;
    const countReached = () => o.count !== undefined && scheduled() >= o.count;
    const limitReached = () => elapsed() >= o.duration || countReached();

    const attempt = (): Promise<boolean> => {
      c.attempts++;
      c.inFlight++;
      const t0 = performance.now();
      return pool
        .request()
        .then((status) => {
          c.responses++;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
          // ok counts expected statuses only: a 502 is an error (HTTP_502), not a success with a bad status.
          const ok = tallyStatus(status, expected, errors);
          if (ok) c.ok++;
          return ok;
        })
        .catch((err: NodeJS.ErrnoException) => {
          errors.add({ code: err.code ?? 'UNKNOWN', syscall: err.syscall ?? 'none' });
          return false;
        })
        .finally(() => {
          c.inFlight--;
          settle();
        });
    };

    return {
      done: ended.promise,
      async start() {
        startedAt = ctx.now();
        startMono = performance.now();
        const finish = () => {
          scheduleOver = true;
          settle();
        };
        if (o.users !== undefined) {
          arrivals = runThinkTimeUsers({
            users: o.users,
            thinkMs: o.think,
            jitterMs: o.jitter,
            pace: o.pace,
            seed: plan.name.length,
            limitReached,
            start: attempt,
            finish,
          });
          return;
        }
        arrivals = runArrivals({
          rate: o.rate,
          pattern: patternOf(o, plan.name.length),
          maxLatenessMs: o.maxLateness,
          maxInFlight: o.maxInFlight,
          elapsed,
          limitReached: (dueMs) => dueMs >= o.duration || countReached(),
          inFlight: () => c.inFlight,
          start: attempt,
          missed: () => c.missedStarts++,
          finish,
        });
      },
      async close() {
        arrivals?.stop();
        scheduleOver = true;
        settle();
        await ended.promise;
        await pool.close();
      },
      destroy() {
        arrivals?.stop();
        scheduleOver = true;
        pool.destroy();
      },
      stats(): HttpClientStats {
        const runMs = (endedAt ?? ctx.now()) - startedAt;
        return {
          model: 'pool',
          target: `${endpointText(connect.address, connect.port)}`,
          connections: o.connections,
          targetRate: o.burst === undefined && o.users === undefined ? o.rate : null,
          startedAtMs: startedAt,
          durationMs: runMs,
          ...c,
          statuses: Object.fromEntries(statuses),
          errors: errors.toJSON(),
          errorCount: errors.total,
          errorsOnReused: errorsOnReused.toJSON(),
          errorsOnReusedCount: errorsOnReused.total,
          firstError: errors.first && { ...errors.first, afterStartMs: errors.first.atMs - startedAt },
          achievedRate: runMs > 0 ? (c.responses / runMs) * 1000 : 0,
          latencyMs: latencySummary(latency),
        };
      },
    };
  },
});
