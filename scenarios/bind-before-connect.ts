// Bind-before-connect: a client that bind()s its source address before connect() (what node does for
// net.connect({ localAddress })) lets bind() pick the port without knowing the destination, so a port
// cannot be shared across destinations: toward two server ports the host stops at one port budget, with
// EADDRINUSE. Plain connect() picks the port knowing the destination 4-tuple and shares source ports
// across destinations: about twice the budget, then EADDRNOTAVAIL per destination.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'bind-before-connect',
  description:
    'bind(ip, 0) then connect() to two server ports stops at one port budget with EADDRINUSE; plain connect() reaches twice it',
  params: {
    rate: f.rate({ default: '250/s', describe: 'new connections per second of each of the four floods (open model)' }),
    duration: f.duration({ default: '3s', describe: 'how long each flood runs' }),
    ports: f.portRange({
      default: '40000-40499',
      describe: 'ip_local_port_range of both client hosts: the port budget',
    }),
    autobindReuse: f.int({
      default: 0,
      min: 0,
      max: 1,
      describe: 'net.ipv4.ip_autobind_reuse on host bound (1 lets bind(ip, 0) share a port among SO_REUSEADDR sockets)',
    }),
  },
  build: (p) => {
    const budget = p.ports.hi - p.ports.lo + 1;
    const clientSysctls = {
      'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`,
      'net.ipv4.tcp_tw_reuse': 0,
      // An RST reaching a TIME_WAIT socket would free its port early (RFC 1337 assassination): keep budgets exact.
      'net.ipv4.tcp_rfc1337': 1,
    };
    const flood = {
      kind: 'short-conn-client',
      model: 'open',
      rate: p.rate,
      duration: p.duration,
      closer: 'client',
    } as const;
    return {
      hosts: {
        // ip_autobind_reuse exists from Linux 5.7: set only when asked, so the default runs on older kernels too.
        bound: {
          address: '198.18.0.1',
          sysctls: { ...clientSysctls, ...(p.autobindReuse ? { 'net.ipv4.ip_autobind_reuse': 1 } : {}) },
        },
        plain: { address: '198.18.0.2', sysctls: clientSysctls },
        server: { address: '198.18.0.3' },
      },
      actors: {
        weba: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
        webb: { kind: 'http-server', host: 'server', port: 8081, keepAlive: false, closer: 'client' },
        'bound-a': { ...flood, host: 'bound', target: 'weba', localAddress: '198.18.0.1' },
        'bound-b': { ...flood, host: 'bound', target: 'webb', localAddress: '198.18.0.1' },
        'plain-a': { ...flood, host: 'plain', target: 'weba' },
        'plain-b': { ...flood, host: 'plain', target: 'webb' },
      },
      thresholds: [
        // From the kernel: every completed connection leaves its client port in TIME_WAIT for 60 s.
        `hosts.plain.peak.ephemeral.TIME_WAIT >= ${Math.floor(2 * budget * 0.98)}`,
        `hosts.plain.counters.delta.Tcp.ActiveOpens == ${2 * budget}`,
        'actors.plain-a.errors.EADDRNOTAVAIL.count > 0',
        'actors.plain-b.errors.EADDRNOTAVAIL.count > 0',
        ...(p.autobindReuse === 0
          ? [
              `hosts.bound.counters.delta.Tcp.ActiveOpens == ${budget}`,
              `hosts.bound.peak.ephemeral.TIME_WAIT <= ${Math.ceil(budget * 1.03)}`,
              `hosts.bound.peak.ephemeral.TIME_WAIT >= ${Math.floor(budget * 0.98)}`,
              'actors.bound-a.errors.EADDRINUSE.count > 0',
              'actors.bound-b.errors.EADDRINUSE.count > 0',
            ]
          : [`hosts.bound.peak.ephemeral.TIME_WAIT > ${budget}`]),
      ],
    };
  },
});
