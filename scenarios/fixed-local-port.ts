// A client that binds the same local port for every connection to one server ip:port: each connection
// has the same 4-tuple, so the next one meets the previous one's TIME_WAIT. What the kernel allows then
// depends on who closed first, on TCP timestamps and on tcp_tw_reuse: one client host per combination,
// side by side, each connecting from port 50000 (node binds before connect; libuv sets SO_REUSEADDR, so
// bind() itself succeeds and the verdict falls on connect()).
import { defineScenario, f } from 'waitlab';

const CLIENTS = {
  // The client closes first and holds the TIME_WAIT of the 4-tuple.
  noreuse: { twReuse: 0, timestamps: 1, closer: 'client' },
  reuse: { twReuse: 1, timestamps: 1, closer: 'client' },
  nots: { twReuse: 1, timestamps: 0, closer: 'client' },
  // The server closes first: the TIME_WAIT is on the server, and the client's next SYN meets it there.
  srvclose: { twReuse: 0, timestamps: 1, closer: 'server' },
} as const;

export default defineScenario({
  name: 'fixed-local-port',
  description:
    'every connection from the same local port: EADDRNOTAVAIL, or TIME_WAIT taken over, by timestamps, tcp_tw_reuse and who closes first',
  params: {
    port: f.int({ default: 50000, min: 1024, max: 65535, describe: 'the fixed local port of every client' }),
    rate: f.rate({
      default: '10/s',
      describe: 'connections per second of each client: one at a time, so each meets only TIME_WAIT',
    }),
    count: f.int({ default: 30, min: 2, max: 1000, describe: 'connections each client tries' }),
  },
  build: (p) => ({
    hosts: {
      server: {},
      ...Object.fromEntries(
        Object.entries(CLIENTS).map(([name, c]) => [
          name,
          {
            sysctls: {
              'net.ipv4.tcp_tw_reuse': c.twReuse,
              'net.ipv4.tcp_timestamps': c.timestamps,
              'net.ipv4.tcp_rfc1337': 1,
            },
          },
        ]),
      ),
    },
    actors: {
      web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
      webclose: { kind: 'http-server', host: 'server', port: 8081, keepAlive: false, closer: 'server' },
      ...Object.fromEntries(
        Object.entries(CLIENTS).map(([name, c]) => [
          `from-${name}`,
          {
            kind: 'short-conn-client',
            host: name,
            target: c.closer === 'client' ? 'web' : 'webclose',
            closer: c.closer,
            localAddress: '0.0.0.0',
            localPort: p.port,
            rate: p.rate,
            maxLateness: '1s',
            count: p.count,
            duration: `${Math.ceil((p.count / p.rate) * 1000) + 500}ms`,
            idleTimeout: '3s',
          },
        ]),
      ),
    },
    thresholds: [
      // Without timestamps the first connection's TIME_WAIT blocks the 4-tuple for good (60 s).
      'actors.from-nots.connected == 1',
      `actors.from-nots.errors.EADDRNOTAVAIL.count == ${p.count - 1}`,
      // With timestamps and tcp_tw_reuse=1, or with the server closing first, every connection goes through.
      `actors.from-reuse.connected == ${p.count}`,
      `hosts.reuse.counters.delta.TcpExt.TWRecycled == ${p.count - 1}`,
      'hosts.nots.counters.delta.TcpExt.TWRecycled == 0',
      `actors.from-srvclose.connected == ${p.count}`,
      'hosts.srvclose.peak.total.TIME_WAIT == 0',
      // tcp_tw_reuse=0 with timestamps differs by kernel: the findings say what this one did, from TWRecycled.
      `actors.from-noreuse.attempts == ${p.count}`,
    ],
  }),
});
