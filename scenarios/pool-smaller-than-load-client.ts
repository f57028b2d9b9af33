// The client-side twin of pool-smaller-than-load: the client's own pool keeps 2 idle connections and its load
// sends bursts of 100 requests at once. undici cannot show it: its Pool never opens more than `connections` and
// makes the other requests wait (--set client=undici: 2 connections for every request, the cost is latency). Node's
// http.Agent can: with keepAlive, maxSockets 100 and maxFreeSockets 2 (as Go's default MaxIdleConnsPerHost 2), a
// burst opens what it lacks, and as the responses come back the agent keeps 2 and destroys the rest, so TIME_WAIT
// piles up on the client: 1 - 2/100 new connections per request after the first burst. The cure: --set pool=100.
import { defineScenario, f, type ActorSpecOf } from 'waitlab';

/** The parameters both pool scenarios share. */
export function poolParams(describePool: string) {
  return {
    pool: f.int({ min: 1, max: 1000, default: 2, describe: describePool }),
    concurrency: f.int({ min: 1, max: 1000, default: 100, describe: 'requests in each burst, all in flight together' }),
    every: f.duration({
      default: '500ms',
      min: '100ms',
      describe: "time between bursts: longer than a burst takes, so each one's responses are back before the next",
    }),
    duration: f.duration({
      default: '5s',
      min: '100ms',
      max: '55s',
      describe: 'how long bursts start (below 60 s: every TIME_WAIT of the run is still held at its end)',
    }),
    delay: f.duration({
      default: '20ms',
      describe: "the backend's time to answer: holds each burst's requests in flight together",
    }),
  };
}

type Params = {
  [K in keyof ReturnType<typeof poolParams>]: ReturnType<typeof poolParams>[K] extends { parse(raw: unknown): infer T }
    ? T
    : never;
};

/** Requests the bursts make, and the new connections a pool of `pool` idle ones opens for them (report/pool-churn.ts). */
export function poolPlan(p: Params) {
  const bursts = Math.ceil(p.duration / p.every);
  const requests = bursts * p.concurrency;
  const kept = Math.min(p.pool, p.concurrency);
  const connections = p.concurrency + (bursts - 1) * (p.concurrency - kept);
  const timeWait = connections - kept;
  return {
    requests,
    backend: (host: string): ActorSpecOf<'http-server'> => ({
      kind: 'http-server',
      host,
      port: 8080,
      keepAlive: true,
      keepAliveTimeout: '60s',
      delay: p.delay,
    }),
    load: (host: string, target: string): ActorSpecOf<'http-client'> => ({
      kind: 'http-client',
      host,
      target,
      burst: `${p.concurrency} every ${p.every}ms`,
      duration: p.duration,
      // A burst started late stays one burst: only one later than half the period is missed (and counted).
      maxLateness: `${Math.floor(p.every / 2)}ms`,
      keepAliveTimeout: '30s',
      timeout: '30s',
    }),
    thresholds: (owner: string, ownerHost: string): string[] => [
      // A burst started more than half a period late is missed whole (a busy machine's stalled event loop): one may be.
      `actors.flood.ok >= ${(bursts - 1) * p.concurrency}`,
      'actors.flood.errorCount == 0',
      ...(kept < p.concurrency
        ? [
            // New connections per request within 20% of the wave model's, whatever pool, concurrency and bursts.
            `predictions.${owner}.poolChurn.ratio >= 0.8`,
            `predictions.${owner}.poolChurn.ratio <= 1.2`,
            `hosts.${ownerHost}.peak.ephemeral.TIME_WAIT >= ${Math.floor(timeWait * 0.8)}`,
            `hosts.${ownerHost}.peak.ephemeral.TIME_WAIT <= ${Math.ceil(timeWait * 1.2)}`,
          ]
        : [
            // The cure: the first burst's connections carry every later one.
            `hosts.${ownerHost}.counters.delta.Tcp.ActiveOpens <= ${Math.ceil(p.concurrency * 1.2)}`,
            `hosts.${ownerHost}.peak.ephemeral.TIME_WAIT <= ${Math.ceil(p.concurrency * 0.2)}`,
          ]),
    ],
  };
}

export default defineScenario({
  name: 'pool-smaller-than-load-client',
  description:
    'a client pool keeping 2 idle connections under bursts of 100 requests (Node http.Agent maxFreeSockets): keep-alive is on, yet almost every request opens and closes a connection, and TIME_WAIT piles up on the client',
  params: {
    ...poolParams(
      'idle connections the client keeps (http.Agent maxFreeSockets, Go MaxIdleConnsPerHost); with client undici, the most it opens',
    ),
    client: f.oneOf(['node', 'undici'] as const, {
      default: 'node',
      describe:
        'node: http.Agent, opens beyond the pool and closes what it cannot keep; undici: its Pool makes requests wait instead',
    }),
  },
  build: (p) => {
    const t = poolPlan(p);
    const pool = p.client === 'node' ? { connections: p.concurrency, maxIdle: p.pool } : { connections: p.pool };
    return {
      hosts: {
        client: { sysctls: { 'net.ipv4.tcp_tw_reuse': 0, 'net.ipv4.tcp_rfc1337': 1 } },
        server: {},
      },
      actors: {
        web: t.backend('server'),
        flood: { ...t.load('client', 'web'), client: p.client, ...pool },
      },
      // undici's Pool opens at most `pool` connections and queues the rest: no churn to predict, so no
      // prediction is made; what is asserted is that it never opened more.
      thresholds:
        p.client === 'node'
          ? t.thresholds('flood', 'client')
          : [
              `actors.flood.ok >= ${t.requests - p.concurrency}`,
              `actors.flood.newConnections <= ${p.pool}`,
              'hosts.client.peak.ephemeral.TIME_WAIT == 0',
            ],
    };
  },
});
