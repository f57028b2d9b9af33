// The keep-alive idle-timeout race from the client side: an undici pool that keeps an idle connection longer than
// the server behind it (here 60 s against Node's 5 s), straight to the server, no proxy between. The server sends
// no `Keep-Alive: timeout=` header (keepAliveHeader false: a server behind a load balancer, or one that strips it),
// so undici cannot learn the server's timeout and keeps its own. When a pooled connection is taken in the instant
// the server closes it, the request meets the server's FIN or the RST its kernel answers with: undici fails it with
// UND_ERR_SOCKET ("other side closed") or ECONNRESET, which the http-client counts apart as errors on a reused
// connection.
//
// The load: rounds of `users` requests, each held `delay` by the server, the next round `think` after the last
// one's first answer (http-client `pace: round`), as keepalive-idle-race has it, but with no jitter: undici's Pool
// writes a whole round in one turn of the client's event loop (one timer), and a FIN that reaches the client during
// that turn is read only after it, so every pooled connection the server closed meanwhile takes a request. With
// `think` 20 ms short of the server's idle timeout the turn falls among the server's closes (which follow the
// round's answers, 5 s later), unless the client read the round's first answer late: single runs at 4,975-4,995 ms
// printed 16-88 errors, a few none (4,998 ms, and under load), six in a row at 4,980 ms 116, 29, 4, 76, 22, 0. With
// 20 ms of jitter (the requests in many turns) 2,432 requests at 4,990-5,003 ms raced none.
import { defineScenario, f } from 'waitlab';
import { roundsClient } from './keepalive-idle-race.ts';

/** How far from the server's idle timeout a round may come and still meet its closes (4,975-4,995 ms raced here). */
const RACE_REACH_MS = 20;

export const CLIENT_FIXES = ['none', 'client-idle-below-server', 'server-keep-alive-header', 'client-retries'] as const;

const params = {
  method: f.oneOf(['POST', 'GET'] as const, { default: 'POST', describe: "the client's method" }),
  serverIdleTimeout: f.duration({
    default: '5s',
    min: '1s',
    max: '1h',
    describe: "idle time after which the server closes a kept-alive connection (Node's http default: 5s)",
  }),
  clientIdleTimeout: f.duration({
    default: '60s',
    min: '1s',
    max: '1h',
    describe:
      'undici keepAliveTimeout: how long the pool keeps an idle connection where the server sends no Keep-Alive hint',
  }),
  fix: f.oneOf(CLIENT_FIXES, {
    default: 'none',
    describe:
      "one of the three fixes: client-idle-below-server (client = server - 1 s), server-keep-alive-header (the server says `Keep-Alive: timeout=N` and undici closes 2 s before N), client-retries (undici's retry interceptor: hides the race)",
  }),
  rounds: f.int({
    min: 2,
    max: 100,
    default: 4,
    describe: 'requests per user; the first round opens the pool, each later one races its idle connections',
  }),
  users: f.int({
    min: 1,
    max: 400,
    default: 128,
    describe: 'requests per round, each on a pooled connection of its own',
  }),
  think: f.duration({
    default: '4980ms',
    describe:
      "from a round's first answer to the next round: 20 ms short of the server's idle timeout, so the round is written while the server closes the last round's connections",
  }),
  delay: f.duration({
    default: '50ms',
    describe: "the server's time to answer, longer than jitter so a round's requests overlap",
  }),
  jitter: f.duration({
    default: '0ms',
    describe:
      "each request of a round later by up to this; 0: the round is written in one turn of the client's event loop",
  }),
};

type Params = { [K in keyof typeof params]: (typeof params)[K] extends { parse(raw: unknown): infer T } ? T : never };

/** The timeouts, the header and the retries a run uses once its fix is applied. */
export function applyClientFix(p: Params): {
  serverIdleMs: number;
  clientIdleMs: number;
  keepAliveHeader: boolean;
  retries: number;
} {
  const base = {
    serverIdleMs: p.serverIdleTimeout,
    clientIdleMs: p.clientIdleTimeout,
    keepAliveHeader: false,
    retries: 0,
  };
  if (p.fix === 'client-idle-below-server')
    return { ...base, clientIdleMs: Math.max(1_000, p.serverIdleTimeout - 1_000) };
  if (p.fix === 'server-keep-alive-header') return { ...base, keepAliveHeader: true };
  if (p.fix === 'client-retries') return { ...base, retries: 1 };
  return base;
}

export default defineScenario({
  name: 'keepalive-idle-race-client',
  description:
    'an undici pool (idle connections kept 60 s) straight to a server closing them after 5 s, no Keep-Alive header: requests on reused connections fail with "other side closed" / ECONNRESET; three fixes compared',
  params,
  build: (p) => {
    const t = applyClientFix(p);
    // undici closes an idle connection itself this long before the server's `Keep-Alive: timeout=` says (its
    // keepAliveTimeoutThreshold, 2 s in undici 7).
    const poolIdleMs = t.keepAliveHeader
      ? Math.min(t.clientIdleMs, Math.ceil(t.serverIdleMs / 1000) * 1000 - 2_000)
      : t.clientIdleMs;
    // Reuses meet closes where the pool outlives the server and a round comes about when the server closes.
    const races = t.serverIdleMs < poolIdleMs && Math.abs(p.think + p.jitter / 2 - t.serverIdleMs) <= RACE_REACH_MS;
    const count = p.rounds * p.users;
    return {
      hosts: { client: {}, server: {} },
      actors: {
        // closeStyle close: an idle close is close(2), as Node's http server does (socket.destroy()), so a request
        // that arrives after it is answered by the server's kernel with an RST.
        web: {
          kind: 'http-server',
          host: 'server',
          port: 8080,
          keepAlive: true,
          keepAliveTimeout: t.serverIdleMs,
          keepAliveHeader: t.keepAliveHeader,
          closeStyle: 'close',
          delay: p.delay,
        },
        client: roundsClient(p, 'web', { keepAliveTimeout: t.clientIdleMs, retries: t.retries }),
      },
      thresholds: [
        `actors.client.attempts >= ${Math.floor(count * 0.8)}`,
        ...(races
          ? [
              'actors.web.idleCloses > 0',
              'actors.client.errorsOnReusedCount > 0',
              t.retries > 0 ? 'actors.client.errorCount == 0' : 'actors.client.errorCount > 0',
            ]
          : ['actors.web.idleCloses == 0', 'actors.client.errorCount == 0', 'actors.client.errorsOnReusedCount == 0']),
      ],
    };
  },
});
