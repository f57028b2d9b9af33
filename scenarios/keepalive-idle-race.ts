// The keep-alive idle-timeout race: client -> nginx (an upstream keep-alive pool, idle connections kept 60 s) ->
// a backend that closes a kept-alive connection after 5 s idle (Node's http default). When nginx takes a pooled
// connection off its cache in the instant the backend closes it, its request meets the backend's FIN (or the RST
// its kernel answers with): nginx logs "upstream prematurely closed connection" or "104: Connection reset by
// peer", retries a GET on a new connection (proxy_next_upstream error) and answers a POST with 502.
//
// The race window is the FIN's way from the backend to nginx's event loop, well under a millisecond, so one idle
// gap near 5 s is a lottery. The load makes it certain: each round is a burst of `burst` concurrent requests
// (the backend holds each for `delay`, so every one needs a pooled connection of its own), `every` apart. nginx's
// cache is LIFO, so within a round the earliest request takes the connection freed last and the latest the one
// freed first: the idle times of one round spread over every - delay +- jitter, about 2 x jitter / burst apart
// (0.3 ms with the defaults), and each round sweeps across the backend's timeout again.
// The builder is shared with examples/your-own-server, where the backend is the user's own process.
import { defineScenario, f, type ScenarioSpec } from 'waitlab';

const RETRY_SETS = ['off', 'error-timeout', 'error-timeout-non-idempotent', 'error-timeout-http-502-503-504'] as const;
export const FIXES = ['none', 'backend-idle-above-proxy', 'proxy-idle-below-backend', 'retry-non-idempotent'] as const;

export function raceParams() {
  return {
    method: f.oneOf(['POST', 'GET'] as const, { default: 'POST', describe: 'the client\'s method: nginx does not pass a POST whose request was sent to another connection (non-idempotent), and retries a GET' }),
    backendIdleTimeout: f.duration({ default: '5s', min: '1s', max: '1h', describe: 'idle time after which the backend closes a kept-alive connection (Node\'s http default: 5s)' }),
    proxyIdleTimeout: f.duration({ default: '60s', min: '1s', max: '1h', describe: 'nginx upstream keepalive_timeout: how long nginx keeps an idle upstream connection (nginx default: 60s)' }),
    retries: f.oneOf(RETRY_SETS, { default: 'error-timeout', describe: 'nginx proxy_next_upstream: error-timeout is nginx\'s default; error-timeout-non-idempotent retries a POST too' }),
    fix: f.oneOf(FIXES, {
      default: 'none',
      describe: 'one of the three fixes, over the values above: backend-idle-above-proxy (backend = proxy + 5 s), proxy-idle-below-backend (proxy = backend - 1 s), retry-non-idempotent (hides the race)',
    }),
    rounds: f.int({ min: 2, max: 100, default: 7, describe: 'bursts; the first opens the pool, each later one races its idle connections' }),
    burst: f.int({ min: 1, max: 500, default: 64, describe: 'concurrent requests per round, each on a pooled upstream connection of its own' }),
    every: f.duration({ default: '5020ms', describe: 'time between rounds: the pool sits idle about every - delay, the backend\'s timeout' }),
    delay: f.duration({ default: '20ms', describe: 'the backend\'s time to answer, longer than jitter so a round\'s requests overlap' }),
    jitter: f.duration({ default: '10ms', describe: 'each request of a round later by up to this: the spread of idle times swept across the timeout' }),
  };
}

type Params = { [K in keyof ReturnType<typeof raceParams>]: ReturnType<typeof raceParams>[K] extends { parse(raw: unknown): infer T } ? T : never };

/** The timeouts and retries a run uses once its fix is applied. */
export function applyFix(p: Params): { backendIdleMs: number; proxyIdleMs: number; retries: (typeof RETRY_SETS)[number] } {
  if (p.fix === 'backend-idle-above-proxy') return { backendIdleMs: p.proxyIdleTimeout + 5_000, proxyIdleMs: p.proxyIdleTimeout, retries: p.retries };
  if (p.fix === 'proxy-idle-below-backend') return { backendIdleMs: p.backendIdleTimeout, proxyIdleMs: Math.max(1_000, p.backendIdleTimeout - 1_000), retries: p.retries };
  if (p.fix === 'retry-non-idempotent') return { backendIdleMs: p.backendIdleTimeout, proxyIdleMs: p.proxyIdleTimeout, retries: 'error-timeout-non-idempotent' };
  return { backendIdleMs: p.backendIdleTimeout, proxyIdleMs: p.proxyIdleTimeout, retries: p.retries };
}

/**
 * Hosts, the proxy and the client around a backend actor named `web` on host backend (listening on 8080), and
 * the thresholds the parameters make hold: a race run expects the backend's closes met by requests (nginx's log)
 * and, unless nginx retries the method, 502s at the client; a cure run expects none of either.
 */
export function raceSpec(p: Params, web: ScenarioSpec['actors'][string], opts: { serverIdleCloses: boolean }): ScenarioSpec {
  const t = applyFix(p);
  const races = t.backendIdleMs <= p.every - p.delay + p.jitter && t.backendIdleMs < t.proxyIdleMs;
  const retried = p.method === 'GET' ? t.retries !== 'off' : t.retries === 'error-timeout-non-idempotent';
  const count = p.rounds * p.burst;
  return {
    hosts: { client: {}, proxy: {}, backend: {} },
    actors: {
      web,
      proxy: { kind: 'proxy', host: 'proxy', engine: 'nginx', port: 80, upstreams: 'web', keepAlive: p.burst * 2, upstreamIdleTimeout: t.proxyIdleMs, retries: t.retries },
      client: {
        kind: 'http-client',
        host: 'client',
        target: 'proxy',
        method: p.method,
        ...(p.method === 'POST' ? { body: 'order=1' } : {}),
        connections: p.burst,
        // Past the rounds' gap: the client's own connections to nginx stay open between rounds, so the only idle
        // connections that close are the upstream ones.
        keepAliveTimeout: '60s',
        burst: `${p.burst} every ${p.every}ms`,
        jitter: p.jitter,
        // A start late on a busy machine still sweeps the timeout: made late, not counted as missed.
        maxLateness: '1s',
        count,
        duration: p.rounds * p.every,
      },
    },
    thresholds: [
      `actors.client.attempts >= ${Math.floor(count * 0.8)}`,
      ...(races
        ? [
          ...(opts.serverIdleCloses ? ['actors.web.idleCloses > 0'] : ['hosts.backend.counters.delta.Tcp.OutRsts > 0']),
          'actors.proxy.errorLog.lines > 0',
          retried ? 'actors.client.errorCount == 0' : 'actors.client.errors.HTTP_502.count > 0',
        ]
        : [
          ...(opts.serverIdleCloses ? ['actors.web.idleCloses == 0'] : []),
          'actors.client.errorCount == 0',
          'actors.proxy.errorLog.lines == 0',
        ]),
    ],
  };
}

export default defineScenario({
  name: 'keepalive-idle-race',
  description: 'client -> nginx pool (60 s idle) -> backend closing idle connections at 5 s: a POST meets the backend\'s close, 502; GETs retried; three fixes compared',
  params: raceParams(),
  build: (p) =>
    raceSpec(
      p,
      // closeStyle close: an idle close is close(2), as Node's http server does (socket.destroy()), so a request
      // that arrives after it is answered by the backend's kernel with an RST.
      { kind: 'http-server', host: 'backend', port: 8080, keepAlive: true, keepAliveTimeout: applyFix(p).backendIdleMs, closeStyle: 'close', delay: p.delay },
      { serverIdleCloses: true },
    ),
});
