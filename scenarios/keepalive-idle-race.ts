// The keep-alive idle-timeout race: client -> nginx (an upstream keep-alive pool, idle connections kept 60 s) ->
// a backend that closes a kept-alive connection after 5 s idle (Node's http default). When nginx takes a pooled
// connection off its cache in the instant the backend closes it, its request meets the backend's FIN (or the RST
// its kernel answers with): nginx logs "upstream prematurely closed connection" or "104: Connection reset by
// peer", retries a GET on a new connection (proxy_next_upstream error) and answers a POST with 502.
//
// The race window is short: from the backend's close until nginx has read its FIN, or until the backend's own loop
// reads a request that arrived as its idle timer fired. One idle gap near 5 s is a lottery, and rounds on a clock
// drift against the backend's timers as the machine's load makes them late. The load makes it certain:
// - each round is `users` requests within `jitter`, each held `delay` by the backend (longer than `jitter`), so
//   every one needs a pooled connection of its own: nginx's cache is LIFO, so the round's requests take the
//   connections freed last, while the backend closes the ones freed first, and the two meet inside the round;
// - the next round is paced by the backend, not a clock: it starts `think` after the round's first expected answer
//   (http-client `pace: round`), which left with the connection freed first, the first the backend will close. With
//   `think` 10 ms short of the idle timeout, nginx is busy with the round's requests when the closes begin, however
//   late the last round ran.
// The builder is shared with examples/your-own-server, where the backend is the user's own process.
import { defineScenario, f, type ScenarioSpec } from 'waitlab';

const RETRY_SETS = ['off', 'error-timeout', 'error-timeout-non-idempotent', 'error-timeout-http-502-503-504'] as const;
export const FIXES = ['none', 'backend-idle-above-proxy', 'proxy-idle-below-backend', 'retry-non-idempotent'] as const;

export function raceParams() {
  return {
    method: f.oneOf(['POST', 'GET'] as const, {
      default: 'POST',
      describe:
        "the client's method: nginx does not pass a POST whose request was sent to another connection (non-idempotent), and retries a GET",
    }),
    backendIdleTimeout: f.duration({
      default: '5s',
      min: '1s',
      max: '1h',
      describe: "idle time after which the backend closes a kept-alive connection (Node's http default: 5s)",
    }),
    proxyIdleTimeout: f.duration({
      default: '60s',
      min: '1s',
      max: '1h',
      describe:
        'nginx upstream keepalive_timeout: how long nginx keeps an idle upstream connection (nginx default: 60s)',
    }),
    retries: f.oneOf(RETRY_SETS, {
      default: 'error-timeout',
      describe:
        "nginx proxy_next_upstream: error-timeout is nginx's default; error-timeout-non-idempotent retries a POST too",
    }),
    fix: f.oneOf(FIXES, {
      default: 'none',
      describe:
        'one of the three fixes, over the values above: backend-idle-above-proxy (backend = proxy + 5 s), proxy-idle-below-backend (proxy = backend - 1 s), retry-non-idempotent (hides the race)',
    }),
    rounds: f.int({
      min: 2,
      max: 100,
      default: 8,
      describe: 'requests per user; the first round opens the pool, each later one races its idle connections',
    }),
    users: f.int({
      min: 1,
      max: 400,
      default: 128,
      describe: 'requests per round, each on a pooled upstream connection of its own',
    }),
    think: f.duration({
      default: '4990ms',
      describe:
        "from a round's first answer to the next round: 10 ms short of the backend's idle timeout, so the round is under way when the backend's closes begin",
    }),
    delay: f.duration({
      default: '50ms',
      describe: "the backend's time to answer, longer than jitter so a round's requests overlap",
    }),
    jitter: f.duration({
      default: '20ms',
      describe:
        'each request of a round later by up to this: the spread over which nginx reuses connections while the backend closes them',
    }),
  };
}

type Params = {
  [K in keyof ReturnType<typeof raceParams>]: ReturnType<typeof raceParams>[K] extends { parse(raw: unknown): infer T }
    ? T
    : never;
};

/** The timeouts and retries a run uses once its fix is applied. */
export function applyFix(p: Params): {
  backendIdleMs: number;
  proxyIdleMs: number;
  retries: (typeof RETRY_SETS)[number];
} {
  if (p.fix === 'backend-idle-above-proxy')
    return { backendIdleMs: p.proxyIdleTimeout + 5_000, proxyIdleMs: p.proxyIdleTimeout, retries: p.retries };
  if (p.fix === 'proxy-idle-below-backend')
    return {
      backendIdleMs: p.backendIdleTimeout,
      proxyIdleMs: Math.max(1_000, p.backendIdleTimeout - 1_000),
      retries: p.retries,
    };
  if (p.fix === 'retry-non-idempotent')
    return {
      backendIdleMs: p.backendIdleTimeout,
      proxyIdleMs: p.proxyIdleTimeout,
      retries: 'error-timeout-non-idempotent',
    };
  return { backendIdleMs: p.backendIdleTimeout, proxyIdleMs: p.proxyIdleTimeout, retries: p.retries };
}

/** The rounds as an http-client: `users` requests a round, the next `think` after the round's first answer. */
export function roundsClient(
  p: { method: 'POST' | 'GET'; users: number; think: number; jitter: number; rounds: number; delay: number },
  target: string,
  pool: { keepAliveTimeout: number; retries?: number },
): ScenarioSpec['actors'][string] {
  return {
    kind: 'http-client',
    host: 'client',
    target,
    method: p.method,
    ...(p.method === 'POST' ? { body: 'order=1' } : {}),
    connections: p.users,
    ...pool,
    users: p.users,
    think: p.think,
    pace: 'round',
    jitter: p.jitter,
    count: p.rounds * p.users,
    // Bounds the load whatever the machine's speed: every user's rounds fit with a second to spare each.
    duration: p.rounds * (p.think + p.delay + 1_000) + p.jitter,
  };
}

/**
 * Hosts, the proxy and the client around a backend actor named `web` on host backend (listening on 8080), and
 * the thresholds the parameters make hold: a race run expects the backend's closes met by requests (nginx's log)
 * and, unless nginx retries the method, 502s at the client; a cure run expects none of either.
 */
export function raceSpec(
  p: Params,
  web: ScenarioSpec['actors'][string],
  opts: { serverIdleCloses: boolean },
): ScenarioSpec {
  const t = applyFix(p);
  const races = t.backendIdleMs <= p.think + p.jitter && t.backendIdleMs < t.proxyIdleMs;
  const retried = p.method === 'GET' ? t.retries !== 'off' : t.retries === 'error-timeout-non-idempotent';
  const count = p.rounds * p.users;
  return {
    hosts: { client: {}, proxy: {}, backend: {} },
    actors: {
      web,
      proxy: {
        kind: 'proxy',
        host: 'proxy',
        engine: 'nginx',
        port: 80,
        upstreams: 'web',
        keepAlive: p.users * 2,
        upstreamIdleTimeout: t.proxyIdleMs,
        retries: t.retries,
      },
      // Past the users' think time: the client's own connections to nginx stay open between requests, so the only
      // idle connections that close are the upstream ones.
      client: roundsClient(p, 'proxy', { keepAliveTimeout: 60_000 }),
    },
    thresholds: [
      `actors.client.attempts >= ${Math.floor(count * 0.8)}`,
      ...(races
        ? [
            ...(opts.serverIdleCloses
              ? ['actors.web.idleCloses > 0']
              : ['hosts.backend.counters.delta.Tcp.OutRsts > 0']),
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
  description:
    "client -> nginx pool (60 s idle) -> backend closing idle connections at 5 s: a POST meets the backend's close, 502; GETs retried; three fixes compared",
  params: raceParams(),
  build: (p) =>
    raceSpec(
      p,
      // closeStyle close: an idle close is close(2), as Node's http server does (socket.destroy()), so a request
      // that arrives after it is answered by the backend's kernel with an RST.
      {
        kind: 'http-server',
        host: 'backend',
        port: 8080,
        keepAlive: true,
        keepAliveTimeout: applyFix(p).backendIdleMs,
        closeStyle: 'close',
        delay: p.delay,
      },
      { serverIdleCloses: true },
    ),
});
