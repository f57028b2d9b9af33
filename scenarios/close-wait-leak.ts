// A CLOSE_WAIT leak: the server never closes its side after the client's FIN, so every connection
// stays in CLOSE_WAIT on the server for as long as the process holds it. The client closes its fd
// right after the response (an orphan), so its FIN_WAIT_2 ends after the client's tcp_fin_timeout.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'close-wait-leak',
  description:
    "a server that never closes after the peer's FIN: CLOSE_WAIT grows on the server and stays; the client's orphaned FIN_WAIT_2 ends after tcp_fin_timeout",
  params: {
    rate: f.rate({ default: '50/s', describe: 'new connections per second, each one leaked by the server' }),
    duration: f.duration({ default: '3s', describe: 'how long the load runs' }),
    finTimeout: f.int({
      default: 2,
      min: 1,
      max: 60,
      describe: "the client host's net.ipv4.tcp_fin_timeout, seconds (orphaned FIN_WAIT_2 lifetime)",
    }),
  },
  build: (p) => {
    const leaks = Math.round((p.rate * p.duration) / 1000);
    return {
      hosts: {
        client: { sysctls: { 'net.ipv4.tcp_fin_timeout': p.finTimeout } },
        server: {},
      },
      actors: {
        web: {
          kind: 'http-server',
          host: 'server',
          port: 8080,
          keepAlive: false,
          closer: 'client',
          closeStyle: 'never',
        },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          closer: 'client',
          closeStyle: 'close',
        },
      },
      // Sampling goes on past the client's tcp_fin_timeout, so the last sample shows which state outlived it.
      tail: p.finTimeout * 1000 + 1500,
      thresholds: [
        `hosts.server.final.CLOSE_WAIT >= ${Math.floor(leaks * 0.95)}`,
        `hosts.server.peak.total.TIME_WAIT == 0`,
        'hosts.client.peak.total.FIN_WAIT2 > 0',
        'hosts.client.final.FIN_WAIT2 == 0',
        'hosts.client.peak.total.TIME_WAIT == 0',
        `actors.flood.ok >= ${Math.floor(leaks * 0.95)}`,
      ],
    };
  },
});
