// tcp_max_tw_buckets caps TIME_WAIT per network namespace: past it, a closing socket skips TIME_WAIT
// and TcpExt.TCPTimeWaitOverflow counts it.
// Its port is free at once, so a client whose range TIME_WAIT would exhaust keeps going.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'tw-bucket-overflow',
  description:
    'a small tcp_max_tw_buckets on the closer: TIME_WAIT capped, TcpExt.TCPTimeWaitOverflow counts every close past the cap',
  params: {
    rate: f.rate({ default: '200/s', describe: 'new connections per second, the client closing first' }),
    duration: f.duration({ default: '3s', describe: 'how long the flood runs' }),
    buckets: f.int({ default: 100, min: 1, describe: "the client host's net.ipv4.tcp_max_tw_buckets" }),
    ports: f.portRange({
      default: '40000-40299',
      describe: "the client host's ip_local_port_range: fewer ports than connections, more than buckets",
    }),
  },
  build: (p) => {
    const conns = Math.round((p.rate * p.duration) / 1000);
    return {
      hosts: {
        client: {
          sysctls: {
            'net.ipv4.tcp_max_tw_buckets': p.buckets,
            'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`,
            'net.ipv4.tcp_tw_reuse': 0,
            'net.ipv4.tcp_rfc1337': 1,
          },
        },
        server: {},
      },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          closer: 'client',
        },
      },
      thresholds: [
        // The kernel's own count for the cap: a census of /proc/net/tcp read in chunks under churn can be one off.
        `hosts.client.peak.sockstatTw <= ${p.buckets}`,
        `hosts.client.peak.total.TIME_WAIT >= ${Math.floor(Math.min(p.buckets, conns) * 0.95)}`,
        // More connections than ports, and no EADDRNOTAVAIL: the overflowed closes freed their ports at once.
        `actors.flood.ok >= ${Math.floor(conns * 0.95)}`,
        'actors.flood.errorCount == 0',
        'hosts.server.peak.total.TIME_WAIT == 0',
      ],
    };
  },
});
