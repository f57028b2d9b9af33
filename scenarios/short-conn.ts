// Ephemeral port exhaustion: a client that opens one connection per request and closes first keeps
// each port in TIME_WAIT for 60 s; with ~1000 ports and a few hundred connections per second,
// connect() runs out of ports after a few seconds and fails with EADDRNOTAVAIL.
// The same hosts take other stories with --set: who closes first, how each side closes, tcp_tw_reuse; each
// threshold is kept only where the parameters make it hold.
import { defineScenario, f } from 'waitlab';

const CLOSE_STYLES = ['graceful', 'close', 'rst', 'never'] as const;

export default defineScenario({
  name: 'short-conn',
  description:
    "one new connection per request, client closes first: TIME_WAIT fills the client's port range, then EADDRNOTAVAIL",
  params: {
    rate: f.rate({ default: '300/s', describe: 'new connections per second (open model)' }),
    duration: f.duration({ default: '6s', describe: 'how long the flood runs' }),
    ports: f.portRange({
      default: '40000-40999',
      describe: "the client host's ip_local_port_range: its port budget toward one server ip:port",
    }),
    twReuse: f.int({
      default: 0,
      min: 0,
      max: 2,
      describe: "the client host's net.ipv4.tcp_tw_reuse (0 off, 1 on, 2 loopback only)",
    }),
    keepAlive: f.bool({
      default: false,
      describe: 'server keep-alive (the client still opens one connection per request)',
    }),
    port: f.int({ default: 8080, min: 1, max: 65535, describe: 'server port' }),
    closer: f.oneOf(['client', 'server'] as const, {
      default: 'client',
      describe: 'who closes each connection first after the response',
    }),
    closeStyle: f.oneOf(CLOSE_STYLES, {
      default: 'graceful',
      describe:
        'how the client closes: graceful (FIN), close (close(2), an orphan), rst (SO_LINGER 0), never (held open)',
    }),
    serverCloseStyle: f.oneOf(CLOSE_STYLES, {
      default: 'graceful',
      describe: 'how the server closes: graceful, close, rst, never (CLOSE_WAIT leak)',
    }),
    family: f.oneOf(['ipv4', 'ipv6', 'dual'] as const, {
      default: 'ipv4',
      describe:
        "the lab's addresses: ipv4 (198.18.0.0/15), ipv6 (2001:2::/48), or dual (both; a second flood, flood6, connects to the server's IPv6 address at the same rate); ip_local_port_range and tcp_tw_reuse serve both families",
    }),
    engine: f.oneOf(['node', 'native'] as const, {
      default: 'node',
      describe: "the flood's engine: node (node:net) or native (native/flood.c on epoll, a worker thread)",
    }),
  },
  build: (p) => {
    const ports = p.ports.hi - p.ports.lo + 1;
    const connections = (p.rate * p.duration) / 1000;
    const finishes = (style: string) => style === 'graceful' || style === 'close';
    // The client's ports end in TIME_WAIT only when it sends the first FIN and the server answers with its own;
    // tcp_tw_reuse=2 reuses on loopback only, and this traffic crosses a veth.
    const clientTimeWait = p.closer === 'client' && finishes(p.closeStyle) && finishes(p.serverCloseStyle);
    const exhausts = clientTimeWait && p.twReuse !== 1 && connections >= ports * 1.2;
    const flood = {
      kind: 'short-conn-client',
      host: 'client',
      target: 'web',
      model: 'open',
      rate: p.rate,
      duration: p.duration,
      closer: p.closer,
      closeStyle: p.closeStyle,
      engine: p.engine,
    } as const;
    // Dual stack: the same flood over IPv6 from the same host, whose ports come from the same ip_local_port_range.
    const floods: Record<string, typeof flood | (typeof flood & { over: 'ipv6' })> =
      p.family === 'dual' ? { flood, flood6: { ...flood, over: 'ipv6' } } : { flood };
    return {
      family: p.family,
      hosts: {
        client: {
          sysctls: {
            'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`,
            'net.ipv4.tcp_tw_reuse': p.twReuse,
            // An RST that reaches a TIME_WAIT socket would kill it early (RFC 1337 assassination): keep counts exact.
            'net.ipv4.tcp_rfc1337': 1,
          },
        },
        server: {},
      },
      actors: {
        web: {
          kind: 'http-server',
          host: 'server',
          port: p.port,
          keepAlive: p.keepAlive,
          closer: p.closer,
          closeStyle: p.serverCloseStyle,
        },
        ...floods,
      },
      thresholds: [
        ...(exhausts
          ? Object.keys(floods).flatMap((name) => [
              `actors.${name}.errors.EADDRNOTAVAIL.count > 0`,
              `predictions.${name}.exhaustion.ratio >= 0.8`,
              `predictions.${name}.exhaustion.ratio <= 1.2`,
              `predictions.${name}.timeWait.ofPortBudget >= 0.98`,
              `predictions.${name}.timeWait.ofPortBudget <= 1.02`,
            ])
          : []),
        // tcp_tw_reuse=1 (timestamps on): connect() takes over TIME_WAIT entries older than tcp_tw_reuse_delay.
        ...(clientTimeWait && p.twReuse === 1 && connections >= ports * 1.2
          ? ['hosts.client.counters.delta.TcpExt.TWRecycled > 0', 'actors.flood.errorCount == 0']
          : []),
        // The client closing first leaves the server none, whatever else happens.
        ...(p.closer === 'client' ? ['hosts.server.peak.total.TIME_WAIT == 0'] : []),
      ],
      // Against a baseline (--baseline): the kernel fixes these counts (the port budget, one TIME_WAIT per
      // close), so they are held tight; latency is not what this scenario is about.
      regressions: {
        'actors.flood.errors.EADDRNOTAVAIL.count': '±3%',
        'hosts.client.peak.total.TIME_WAIT': '±1%',
        'hosts.client.counters.delta.TcpExt.TW': '±1%',
        'actors.flood.latencyMs.p99': '+400%',
      },
    };
  },
});
