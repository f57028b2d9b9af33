// SNAT port exhaustion at a NAT gateway: client hosts on a `lan` hold kept-alive connections open to one server
// ip:port on a `wan` through a gateway that masquerades into a small range of ports (nftables `masquerade to
// :lo-hi`, in the gateway's own namespace). Each open connection holds one translated port toward that ip:port;
// once the pools want more connections than the range has ports, the NAT can only give a new connection a
// 4-tuple already in use: its conntrack entry clashes at insertion (insert_failed, drop) and the SYN is dropped.
// The clients see silence, not an error: SYNs resent, connect and request timeouts, never EADDRNOTAVAIL (their
// own ports are free). The server holds exactly as many connections from the gateway as the range has ports.
// Cures to compare with --set or --sweep: a wider `natPorts`, fewer `connections`; `randomFully=1` (the usual
// fix for the insertion race) adds no ports and cures nothing here.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'nat-gateway-snat',
  description:
    'clients behind a masquerading gateway with a small port range: the NAT runs out of translated ports toward one server ip:port',
  params: {
    clients: f.int({ default: 4, min: 1, max: 16, describe: 'client hosts behind the gateway' }),
    connections: f.int({
      default: 30,
      min: 1,
      max: 500,
      describe: 'kept-alive connections each client holds open to the server',
    }),
    natPorts: f.portRange({
      default: '50000-50099',
      describe: 'the ports the gateway translates into (masquerade to :lo-hi): its port budget toward one ip:port',
    }),
    randomFully: f.int({
      default: 0,
      min: 0,
      max: 1,
      describe:
        '1: the masquerade picks every translated port at random (fully-random), the fix for the insertion race',
    }),
    rate: f.rate({ default: '100/s', describe: 'requests per second of each client over its pool' }),
    duration: f.duration({ default: '4s', describe: 'how long each client runs' }),
    family: f.oneOf(['ipv4', 'ipv6'] as const, {
      default: 'ipv4',
      describe:
        "the lab's addresses: ipv4 (198.18.0.0/15) or ipv6 (2001:2::/48, the masquerade in an nftables ip6 table of the gateway's namespace)",
    }),
  },
  build: (p) => {
    const clients = Array.from({ length: p.clients }, (_, i) => `c${i + 1}`);
    const budget = p.natPorts.hi - p.natPorts.lo + 1;
    const wanted = p.clients * p.connections;
    return {
      family: p.family,
      networks: { lan: {}, wan: {} },
      hosts: {
        gw: {
          networks: ['lan', 'wan'],
          gateway: { masquerade: 'wan', ports: `${p.natPorts.lo}-${p.natPorts.hi}`, randomFully: p.randomFully === 1 },
        },
        server: { networks: ['wan'] },
        ...Object.fromEntries(clients.map((c) => [c, { networks: ['lan'], via: 'gw' }])),
      },
      actors: {
        // Idle connections stay open for the whole run: only the NAT's ports limit how many there are.
        web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: true, keepAliveTimeout: '60s' },
        ...Object.fromEntries(
          clients.map((c) => [
            `from-${c}`,
            {
              kind: 'keepalive-client',
              host: c,
              target: 'web',
              connections: p.connections,
              rate: p.rate,
              duration: p.duration,
              timeout: '3s',
            },
          ]),
        ),
      },
      // The server holds min(pools, translated ports) connections from the gateway (report/nat-prediction.ts),
      // whatever --set says; past the range, the connections beyond it clash at the gateway's conntrack.
      thresholds: [
        'predictions.from-c1.natPorts.ratio >= 0.95',
        'predictions.from-c1.natPorts.ratio <= 1.05',
        ...(wanted > budget
          ? ['hosts.gw.counters.delta.Conntrack.insert_failed > 0']
          : clients.map((c) => `actors.from-${c}.errorCount == 0`)),
      ],
    };
  },
});
