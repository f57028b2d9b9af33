// A peer that never finishes the close: the server closes first, the client keeps its side open for
// good (CLOSE_WAIT on the client), and the server is left in FIN_WAIT_2. tcp_fin_timeout ends a
// FIN_WAIT_2 only for an orphan: the server that close(2)s its fd loses them after tcp_fin_timeout,
// the server that only shuts down its sending side (node's end()) and keeps the fd keeps them all.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'fin-wait-2',
  description:
    'the server closes first, the client never does: FIN_WAIT_2 ends after tcp_fin_timeout only where the server close(2)d its fd',
  params: {
    rate: f.rate({ default: '50/s', describe: 'new connections per second, for each of the two servers' }),
    duration: f.duration({ default: '3s', describe: 'how long each flood runs' }),
    finTimeout: f.int({ default: 2, min: 1, max: 60, describe: "the servers' net.ipv4.tcp_fin_timeout, seconds" }),
  },
  build: (p) => {
    const most = Math.floor(((p.rate * p.duration) / 1000) * 0.95);
    const serverSysctls = { 'net.ipv4.tcp_fin_timeout': p.finTimeout };
    return {
      hosts: {
        client: {},
        server: { sysctls: serverSysctls },
        shutserver: { sysctls: serverSysctls },
      },
      actors: {
        // close(2) right after the response: an orphan as soon as it is closed.
        web: {
          kind: 'http-server',
          host: 'server',
          port: 8080,
          keepAlive: false,
          closer: 'server',
          closeStyle: 'close',
        },
        // shutdown(SHUT_WR) after the response, fd kept until the peer's FIN: never an orphan.
        'shut-web': {
          kind: 'http-server',
          host: 'shutserver',
          port: 8080,
          keepAlive: false,
          closer: 'server',
          closeStyle: 'graceful',
        },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          closer: 'server',
          closeStyle: 'never',
        },
        'shut-flood': {
          kind: 'short-conn-client',
          host: 'client',
          target: 'shut-web',
          rate: p.rate,
          duration: p.duration,
          closer: 'server',
          closeStyle: 'never',
        },
      },
      // Sampling goes on past tcp_fin_timeout, so the last sample shows which FIN_WAIT_2 outlived it.
      tail: p.finTimeout * 1000 + 1500,
      thresholds: [
        `actors.flood.ok >= ${most}`,
        `actors.shut-flood.ok >= ${most}`,
        'hosts.server.peak.total.FIN_WAIT2 > 0',
        'hosts.server.final.FIN_WAIT2 == 0',
        `hosts.shutserver.final.FIN_WAIT2 >= ${most}`,
        `hosts.client.final.CLOSE_WAIT >= ${2 * most}`,
        'hosts.server.peak.total.TIME_WAIT == 0',
        'hosts.shutserver.peak.total.TIME_WAIT == 0',
      ],
    };
  },
});
