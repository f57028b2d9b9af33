// A keep-alive pool smaller than the load: nginx keeps `keepalive 2` idle upstream connections, and the client
// sends bursts of 100 requests at once. Keep-alive is on, yet each burst finds 2 idle connections, opens 98 more
// toward the backend, and as the responses come back nginx keeps 2 and closes the other 98 (the upstream
// keepalive module caches N idle connections per worker and closes the least recently used beyond that), so
// the proxy host fills with TIME_WAIT: 1 - 2/100 new connections per request after the first burst. The cure,
// `--set pool=100` (a pool at least the concurrency), opens 100 upstream connections once and reuses them.
// The client keeps its own 100 connections to nginx open (undici, connections = concurrency): the story is the proxy's.
import { defineScenario } from 'waitlab';
import { poolParams, poolPlan } from './pool-smaller-than-load-client.ts';

export default defineScenario({
  name: 'pool-smaller-than-load',
  description:
    'client bursts of 100 requests -> nginx with upstream keepalive 2 -> backend: keep-alive is on, yet almost every request opens and closes an upstream connection, and TIME_WAIT piles up on the proxy',
  params: {
    ...poolParams('nginx upstream `keepalive N`: idle upstream connections kept (per worker; one worker here)'),
  },
  build: (p) => {
    const t = poolPlan(p);
    return {
      hosts: {
        client: {},
        // The pool's owner: exact TIME_WAIT counts (no reuse of its own ports, no RST assassination).
        proxy: { sysctls: { 'net.ipv4.tcp_tw_reuse': 0, 'net.ipv4.tcp_rfc1337': 1 } },
        backend: {},
      },
      actors: {
        web: t.backend('backend'),
        proxy: { kind: 'proxy', host: 'proxy', engine: 'nginx', port: 80, upstreams: 'web', keepAlive: p.pool },
        // A pool as large as the burst, so the client side never waits nor churns.
        flood: { ...t.load('client', 'proxy'), client: 'undici', connections: p.concurrency },
      },
      thresholds: t.thresholds('proxy', 'proxy'),
    };
  },
});
