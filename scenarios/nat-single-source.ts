// Many clients behind one source address: four client hosts on a `lan` reach a server on a `wan` through a
// gateway that masquerades (nftables, inside the gateway's namespace). The server closes first, so its
// TIME_WAIT piles up under one remote address, the gateway's; the 4-tuples it holds are what the clients'
// new connections look like after NAT, and a new SYN that lands on one is accepted into it, or not,
// depending on its timestamp. The gateway's conntrack forgets closed mappings after
// nf_conntrack_tcp_timeout_time_wait: shorter than the server's 60 s TIME_WAIT, NAT hands out 4-tuples the
// server still holds, to clients whose timestamps the server has never seen.
import { defineScenario, f } from 'waitlab';

const CLIENTS = ['c1', 'c2', 'c3', 'c4'] as const;

export default defineScenario({
  name: 'nat-single-source',
  description:
    'four clients behind one masquerading gateway: server TIME_WAIT under one remote, new SYNs landing on TIME_WAIT 4-tuples',
  params: {
    rate: f.rate({ default: '100/s', describe: 'new connections per second of each client' }),
    duration: f.duration({ default: '3s', describe: 'how long each client runs' }),
    ports: f.portRange({
      default: '40000-40199',
      describe: 'ip_local_port_range of every client: all the same, so their ports collide at the gateway',
    }),
    serverRfc1337: f.int({
      default: 0,
      min: 0,
      max: 1,
      describe:
        "the server's net.ipv4.tcp_rfc1337: 1 ignores RSTs in TIME_WAIT, so a client cannot clear a 4-tuple it was refused on",
    }),
    // 1 s: a NAT that forgets closed mappings fast, as large NATs do; the kernel's own default is 120 s.
    ctTimeWait: f.int({
      default: 1,
      min: 1,
      max: 600,
      describe: "the gateway's net.netfilter.nf_conntrack_tcp_timeout_time_wait, seconds (kernel default 120)",
    }),
  },
  build: (p) => ({
    networks: { lan: {}, wan: {} },
    hosts: {
      gw: {
        networks: ['lan', 'wan'],
        gateway: { masquerade: 'wan' },
        sysctls: { 'net.netfilter.nf_conntrack_tcp_timeout_time_wait': p.ctTimeWait },
      },
      server: { networks: ['wan'], sysctls: { 'net.ipv4.tcp_rfc1337': p.serverRfc1337 } },
      ...Object.fromEntries(
        CLIENTS.map((c) => [
          c,
          { networks: ['lan'], via: 'gw', sysctls: { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}` } },
        ]),
      ),
    },
    actors: {
      // The server closes right after its response: TIME_WAIT lands on the server, one per 4-tuple.
      web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'server' },
      ...Object.fromEntries(
        CLIENTS.map((c) => [
          `from-${c}`,
          {
            kind: 'short-conn-client',
            host: c,
            target: 'web',
            rate: p.rate,
            duration: p.duration,
            closer: 'server',
            idleTimeout: '4s',
          },
        ]),
      ),
    },
    thresholds: [
      // The server sees one remote, the gateway: its TIME_WAIT all sits on the listening side.
      'hosts.server.peak.listen.TIME_WAIT > 0',
      'hosts.server.peak.ephemeral.TIME_WAIT == 0',
      // gw's wan address (first address of the second network): the only remote the server sees.
      'hosts.server.peak.peers.listen.198.18.1.1.TIME_WAIT > 0',
      // The clients hold none: the server closes first.
      ...CLIENTS.map((c) => `hosts.${c}.peak.total.TIME_WAIT == 0`),
      ...(p.serverRfc1337 === 0 ? CLIENTS.map((c) => `actors.from-${c}.errorCount == 0`) : []),
    ],
  }),
});
