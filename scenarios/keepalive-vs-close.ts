// The same request rate twice, side by side on two client hosts: once over a few kept-alive connections
// (autocannon), once with one new connection per request. The kernel's Tcp.ActiveOpens per request and
// the TIME_WAIT each host holds show what keep-alive saves.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'keepalive-vs-close',
  description:
    'one request rate with keep-alive on and off, side by side: new connections per request and TIME_WAIT on each host',
  params: {
    rate: f.rate({ default: '100/s', describe: 'requests per second, for each of the two clients' }),
    duration: f.duration({ default: '4s', describe: 'how long each client runs' }),
    connections: f.int({ default: 2, min: 1, max: 100, describe: 'kept-alive connections of the keep-alive client' }),
    offCloser: f.oneOf(['client', 'server'] as const, {
      default: 'client',
      describe: 'keep-alive off: who closes each connection first (and holds its TIME_WAIT)',
    }),
  },
  build: (p) => {
    const requests = Math.round((p.rate * p.duration) / 1000);
    const most = Math.floor(requests * 0.95);
    const offHolder = p.offCloser === 'client' ? 'client' : 'server';
    return {
      hosts: { kaclient: {}, client: {}, server: {} },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: true, keepAliveTimeout: '30s' },
        'close-web': { kind: 'http-server', host: 'server', port: 8081, keepAlive: false, closer: p.offCloser },
        keepalive: {
          kind: 'keepalive-client',
          host: 'kaclient',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          connections: p.connections,
        },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'close-web',
          rate: p.rate,
          duration: p.duration,
          closer: p.offCloser,
        },
      },
      thresholds: [
        `actors.keepalive.ok >= ${most}`,
        `actors.flood.ok >= ${most}`,
        // Kept-alive connections are closed only when the load ends: at most one TIME_WAIT each.
        `hosts.kaclient.peak.total.TIME_WAIT <= ${p.connections}`,
        `hosts.${offHolder}.peak.total.TIME_WAIT >= ${most}`,
      ],
    };
  },
});
