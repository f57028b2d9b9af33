// The keep-alive idle-timeout race behind HAProxy 2.6 (Debian 12): client -> HAProxy (http mode, a server
// connection pool, `http-reuse always`) -> a backend that closes a kept-alive connection after 5 s idle (Node's
// default). HAProxy 2.6 has no idle timeout for server connections (`timeout server` and `timeout http-keep-alive`
// do not apply to its pool): a purge task closes, each `pool-purge-delay` (5 s), half of the idle connections
// beyond its estimate of recent need, and a load that comes back every 5 s keeps that estimate at the whole pool.
// So the backend closes connections HAProxy still counts as reusable; a request HAProxy writes onto one as the
// backend closes it meets its FIN, or the RST its kernel answers a request it never read with, HAProxy logs
// termination state SH (the server closed before its response headers) and answers 502, unless `retry-on
// empty-response` sends it again on another connection (an L7 retry, POST included).
//
// Its own scenario, not `--set engine=haproxy` on keepalive-idle-race: the fixes are other settings, and the load
// needs another shape. HAProxy took the idle connection freed first here (nginx takes the one freed last), so with
// nginx's 20 ms jitter each connection came back `think` after it went idle, 10 ms early, and met 1-2 closes in 512
// requests. With no jitter a round arrives at once, `think` after the round's first answer: HAProxy hands out, in
// one turn of its event loop, the connections whose 5 s end as the backend's timers fire.
import { defineScenario, f } from 'waitlab';
import { raceParams, roundsClient } from './keepalive-idle-race.ts';

export const HAPROXY_FIXES = [
  'none',
  'backend-idle-above-proxy',
  'proxy-idle-below-backend',
  'retry-on-empty-response',
] as const;

const { method, backendIdleTimeout, rounds, users, think, delay } = raceParams();
const params = {
  method,
  backendIdleTimeout,
  poolPurgeDelay: f.duration({
    default: '5s',
    min: '10ms',
    max: '1h',
    describe:
      "HAProxy's server `pool-purge-delay` (its default: 5s): each such interval it closes half of the idle server connections beyond its estimate of recent need",
  }),
  fix: f.oneOf(HAPROXY_FIXES, {
    default: 'none',
    describe:
      'one of the three fixes: backend-idle-above-proxy (backend 65 s), proxy-idle-below-backend (pool-purge-delay = backend / 20), retry-on-empty-response (`retry-on conn-failure empty-response`: hides the race)',
  }),
  rounds,
  users,
  think,
  delay,
  jitter: f.duration({
    default: '0ms',
    describe:
      "each request of a round later by up to this; 0: a round arrives at once, as HAProxy's first-freed-first-reused order needs",
  }),
};

type Params = { [K in keyof typeof params]: (typeof params)[K] extends { parse(raw: unknown): infer T } ? T : never };

/** Past any idle gap of this load (a round each `think`), as nginx's 60 s pool is cured by a backend at 65 s. */
const BACKEND_IDLE_ABOVE_PROXY_MS = 65_000;
/**
 * Purge turns within the backend's idle timeout. A turn closes only the idle connections beyond HAProxy's estimate
 * of need, and that estimate halves each turn, so 128 idle connections need about log2(128) + 2 = 9 turns to go.
 */
const PURGE_TURNS_BEFORE_BACKEND_IDLE = 20;
/** How far from the backend's idle timeout a round may come and still meet its closes. */
const RACE_REACH_MS = 20;

/** The timeouts and retries a run uses once its fix is applied. */
export function applyHaproxyFix(p: Params): {
  backendIdleMs: number;
  poolPurgeDelayMs: number;
  retryOn: 'conn-failure' | 'conn-failure-empty-response';
} {
  const base = {
    backendIdleMs: p.backendIdleTimeout,
    poolPurgeDelayMs: p.poolPurgeDelay,
    retryOn: 'conn-failure' as const,
  };
  if (p.fix === 'backend-idle-above-proxy') return { ...base, backendIdleMs: BACKEND_IDLE_ABOVE_PROXY_MS };
  if (p.fix === 'proxy-idle-below-backend')
    return {
      ...base,
      poolPurgeDelayMs: Math.max(10, Math.floor(p.backendIdleTimeout / PURGE_TURNS_BEFORE_BACKEND_IDLE)),
    };
  if (p.fix === 'retry-on-empty-response') return { ...base, retryOn: 'conn-failure-empty-response' };
  return base;
}

export default defineScenario({
  name: 'keepalive-idle-race-haproxy',
  description:
    'client -> HAProxy pool (idle server connections purged only beyond recent need) -> backend closing them after 5 s: requests meet its closes, 502 (SH); three fixes compared',
  params,
  build: (p) => {
    const t = applyHaproxyFix(p);
    const purgedInTime = t.poolPurgeDelayMs * PURGE_TURNS_BEFORE_BACKEND_IDLE <= t.backendIdleMs;
    const races =
      !purgedInTime &&
      t.backendIdleMs < BACKEND_IDLE_ABOVE_PROXY_MS &&
      Math.abs(p.think + p.jitter / 2 - t.backendIdleMs) <= RACE_REACH_MS;
    const retried = t.retryOn === 'conn-failure-empty-response';
    const count = p.rounds * p.users;
    return {
      hosts: { client: {}, proxy: {}, backend: {} },
      actors: {
        // closeStyle close: an idle close is close(2), as Node's http server does (socket.destroy()).
        web: {
          kind: 'http-server',
          host: 'backend',
          port: 8080,
          keepAlive: true,
          keepAliveTimeout: t.backendIdleMs,
          closeStyle: 'close',
          delay: p.delay,
        },
        proxy: {
          kind: 'proxy',
          host: 'proxy',
          engine: 'haproxy',
          port: 80,
          upstreams: 'web',
          keepAlive: p.users * 2,
          httpReuse: 'always',
          poolPurgeDelay: t.poolPurgeDelayMs,
          retryOn: t.retryOn,
        },
        client: roundsClient(p, 'proxy', { keepAliveTimeout: 60_000 }),
      },
      thresholds: [
        `actors.client.attempts >= ${Math.floor(count * 0.8)}`,
        ...(races
          ? // Retried, most races go unseen, not all: a retry takes the next idle connection, which the backend may be
            // closing too, and after `retries` (3) tries HAProxy answers 502 (2 of 44 in one run of three).
            [
              'actors.web.idleCloses > 0',
              retried ? 'hosts.backend.counters.delta.Tcp.OutRsts > 0' : 'actors.client.errorCount > 0',
            ]
          : [...(purgedInTime ? [] : ['actors.web.idleCloses == 0']), 'actors.client.errorCount == 0']),
      ],
    };
  },
});
