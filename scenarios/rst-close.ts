// Closing with SO_LINGER 0 (node's resetAndDestroy): the closer sends RST instead of FIN, so it never
// enters TIME_WAIT, and its peer's connection is reset. Both directions in one run, each on its own pair
// of hosts so that each host's counters tell one story: a client that resets after its response, and a
// server that resets after its response.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'rst-close',
  description:
    'close with SO_LINGER 0 (RST), by a client and by a server: no TIME_WAIT on the closer, the peer reset (ECONNRESET)',
  params: {
    rate: f.rate({ default: '100/s', describe: 'new connections per second, for each of the two floods' }),
    duration: f.duration({ default: '4s', describe: 'how long each flood runs' }),
    ports: f.portRange({
      default: '40000-40199',
      describe: "the clients' ip_local_port_range: fewer ports than connections, which TIME_WAIT would exhaust",
    }),
  },
  build: (p) => {
    const conns = Math.round((p.rate * p.duration) / 1000);
    const most = Math.floor(conns * 0.95);
    const clientSysctls = { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`, 'net.ipv4.tcp_tw_reuse': 0 };
    return {
      hosts: {
        rstclient: { sysctls: clientSysctls },
        server: {},
        client: { sysctls: clientSysctls },
        rstserver: {},
      },
      actors: {
        // The client resets: `web` waits for the client's close and gets an RST instead of a FIN.
        web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
        'rst-flood': {
          kind: 'short-conn-client',
          host: 'rstclient',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          closer: 'client',
          closeStyle: 'rst',
        },
        // The server resets: `flood` waits for the server's close and gets an RST instead of a FIN.
        'rst-web': {
          kind: 'http-server',
          host: 'rstserver',
          port: 8080,
          keepAlive: false,
          closer: 'server',
          closeStyle: 'rst',
        },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'rst-web',
          rate: p.rate,
          duration: p.duration,
          closer: 'server',
        },
      },
      thresholds: [
        // More connections than ports: only a close that leaves no TIME_WAIT gets them all through.
        `actors.rst-flood.ok >= ${most}`,
        `actors.flood.ok >= ${most}`,
        'hosts.rstclient.peak.total.TIME_WAIT == 0',
        'hosts.rstserver.peak.total.TIME_WAIT == 0',
        'hosts.server.peak.total.TIME_WAIT == 0',
        'hosts.client.peak.total.TIME_WAIT == 0',
        `actors.web.errors.ECONNRESET.count >= ${most}`,
        'actors.flood.errors.ECONNRESET.count > 0',
      ],
    };
  },
});
