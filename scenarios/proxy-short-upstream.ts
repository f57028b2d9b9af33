// TIME_WAIT behind a reverse proxy: the client's requests reach the proxy, which opens one new connection per
// request to its upstream and closes it first (the backend waits for the proxy's FIN). The proxy host keeps each
// of those connections in TIME_WAIT for 60 s; with a 1000-port ip_local_port_range and tcp_tw_reuse=0, connect()
// toward the upstream runs out of ports and nginx logs `connect() failed (99: Cannot assign requested address)`,
// the client gets 502s. The client itself opens one connection per request too, but its host keeps the default
// 28,232-port range, so its own TIME_WAIT (it closes first toward the proxy) never runs out: the story is the proxy's.
// The topology builder is shared with proxy-keepalive-upstream and the haproxy-* twins.
import { defineScenario, f, type ScenarioSpec } from 'waitlab';

export const ENGINES = ['nginx', 'haproxy', 'builtin'] as const;
export type Engine = (typeof ENGINES)[number];

export function proxyParams(defaults: { engine: Engine; keepAlive: number }) {
  return {
    engine: f.oneOf(ENGINES, {
      default: defaults.engine,
      describe: 'the proxy: nginx, haproxy (installed binaries) or builtin (undici)',
    }),
    keepAlive: f.int({
      min: 0,
      max: 10_000,
      default: defaults.keepAlive,
      describe: 'upstream keep-alive pool size; 0: one upstream connection per request',
    }),
    rate: f.rate({
      default: '400/s',
      describe: 'client requests per second (open model), each on a new connection to the proxy',
    }),
    duration: f.duration({ default: '5s', describe: 'how long the client sends' }),
    proxyPorts: f.portRange({
      default: '40000-40999',
      describe: "the proxy host's ip_local_port_range: its port budget toward each upstream ip:port",
    }),
    backends: f.int({ min: 1, max: 8, default: 1, describe: 'backend hosts' }),
    backendPorts: f.int({
      min: 1,
      max: 8,
      default: 1,
      describe: 'ports (http-server actors) per backend host, from 8080 up',
    }),
    backendCloser: f.oneOf(['client', 'server'] as const, {
      default: 'client',
      describe:
        'without upstream keep-alive, who closes an upstream connection first: client (the proxy, as in the incidents) or server (the backend)',
    }),
    mode: f.oneOf(['http', 'tcp'] as const, {
      default: 'http',
      describe:
        "HAProxy only: http, or tcp (layer 4: it mirrors the client's FIN to the upstream, so it closes first there)",
    }),
    bind: f.optional(
      f.ipv4({
        describe:
          "source address of the proxy's upstream connections (nginx proxy_bind, HAProxy source, undici localAddress)",
      }),
    ),
    sourcePorts: f.optional(
      f.portRange({ describe: 'HAProxy only: its own per-server source port range (`source 0.0.0.0:lo-hi`)' }),
    ),
    family: f.oneOf(['ipv4', 'ipv6'] as const, {
      default: 'ipv4',
      describe:
        "the lab's addresses: ipv4 (198.18.0.0/15) or ipv6 (2001:2::/48; the proxy listens on [::], its upstreams are IPv6 addresses)",
    }),
  };
}

type Params = {
  [K in keyof ReturnType<typeof proxyParams>]: ReturnType<typeof proxyParams>[K] extends {
    parse(raw: unknown): infer T;
  }
    ? T
    : never;
};

/** Status the client gets when the proxy cannot reach an upstream: nginx and undici say 502, HAProxy 503. */
export const gatewayStatus = (engine: Engine) => (engine === 'haproxy' ? 503 : 502);

export function proxyTopology(p: Params): {
  spec: Omit<ScenarioSpec, 'thresholds'>;
  upstreams: number;
  portBudget: number;
  requests: number;
} {
  const hosts: ScenarioSpec['hosts'] = {
    client: {},
    proxy: {
      sysctls: {
        'net.ipv4.ip_local_port_range': `${p.proxyPorts.lo} ${p.proxyPorts.hi}`,
        'net.ipv4.tcp_tw_reuse': 0,
        // An RST reaching a TIME_WAIT socket would kill it early (RFC 1337 assassination): keep the counts exact.
        'net.ipv4.tcp_rfc1337': 1,
      },
    },
  };
  const actors: ScenarioSpec['actors'] = {};
  const upstreamNames: string[] = [];
  for (let b = 1; b <= p.backends; b++) {
    hosts[`backend${b}`] = {};
    for (let k = 0; k < p.backendPorts; k++) {
      const name = k === 0 ? `web${b}` : `web${b}-${8080 + k}`;
      upstreamNames.push(name);
      actors[name] = {
        kind: 'http-server',
        host: `backend${b}`,
        port: 8080 + k,
        keepAlive: p.keepAlive > 0,
        closer: p.backendCloser,
      };
    }
  }
  actors['proxy'] = {
    kind: 'proxy',
    host: 'proxy',
    engine: p.engine,
    port: 80,
    upstreams: upstreamNames.join(','),
    keepAlive: p.keepAlive,
    mode: p.mode,
    ...(p.bind ? { bind: p.bind } : {}),
    ...(p.sourcePorts ? { sourcePorts: `${p.sourcePorts.lo}-${p.sourcePorts.hi}` } : {}),
  };
  actors['flood'] = {
    kind: 'short-conn-client',
    host: 'client',
    target: 'proxy',
    model: 'open',
    rate: p.rate,
    duration: p.duration,
    closer: 'client',
  };
  const range = p.sourcePorts ?? p.proxyPorts;
  return {
    spec: { family: p.family, hosts, actors },
    upstreams: upstreamNames.length,
    portBudget: (range.hi - range.lo + 1) * upstreamNames.length,
    requests: Math.round((p.rate * p.duration) / 1000),
  };
}

/**
 * What the kernel should show. nginx and the built-in proxy close each upstream connection first with a FIN, so
 * their host fills with TIME_WAIT and runs out of ports. HAProxy in http mode waits for the server's close and,
 * if it must close first, resets (SO_LINGER 0): no TIME_WAIT, no exhaustion, one upstream connection per request.
 */
export function shortUpstreamThresholds(p: Params, t: ReturnType<typeof proxyTopology>): string[] {
  if (p.engine === 'haproxy' && p.mode === 'http') {
    return [
      'actors.proxy.errorLog.causes.portsExhausted == 0',
      'hosts.proxy.peak.ephemeral.TIME_WAIT == 0',
      `actors.proxy.hostActiveOpens >= ${Math.floor(t.requests * 0.95)}`,
      `actors.flood.statuses.200 >= ${Math.floor(t.requests * 0.95)}`,
    ];
  }
  if (p.engine === 'haproxy' && p.sourcePorts) {
    // HAProxy binds every port of its source range itself, and connect() from an explicitly bound port may take
    // over a TIME_WAIT 4-tuple whenever timestamps are on, whatever tcp_tw_reuse says (TcpExt.TWRecycled).
    const range = p.sourcePorts.hi - p.sourcePorts.lo + 1;
    return [
      'actors.proxy.errorLog.causes.portsExhausted == 0',
      `actors.flood.ok >= ${Math.floor(t.requests * 0.95)}`,
      // The kernel's own count (sockstat) is exact; the /proc/net/tcp census, read in pieces while ports are taken
      // over, has shown a few percent more.
      `hosts.proxy.peak.sockstatTw <= ${range * t.upstreams}`,
      `actors.proxy.hostActiveOpens >= ${Math.floor(t.requests * 0.95)}`,
    ];
  }
  if (p.backendCloser === 'server') {
    // The backends close first: they hold TIME_WAIT (TcpExt.TW on their hosts), and how many of the proxy's ports
    // stay held depends on how often the proxy's close races theirs, so no exhaustion is promised here.
    return [
      ...Array.from({ length: p.backends }, (_, i) => `hosts.backend${i + 1}.counters.delta.TcpExt.TW > 0`),
      // One TIME_WAIT per 4-tuple: the census never counts more than the budget toward the upstreams.
      `hosts.proxy.peak.ephemeral.TIME_WAIT <= ${t.portBudget}`,
    ];
  }
  return [
    'actors.proxy.errorLog.causes.portsExhausted > 0',
    // In tcp mode HAProxy can only close the client's connection: no status at all.
    p.mode === 'tcp'
      ? `actors.flood.ok <= ${Math.ceil(t.portBudget * 1.02)}`
      : `actors.flood.statuses.${gatewayStatus(p.engine)} > 0`,
    // Every port of the budget held in TIME_WAIT toward the upstreams, on the proxy host.
    `hosts.proxy.peak.ephemeral.TIME_WAIT >= ${Math.floor(t.portBudget * 0.95)}`,
    `hosts.proxy.peak.ephemeral.TIME_WAIT <= ${Math.ceil(t.portBudget * 1.02)}`,
    // One upstream connection per request that got through: no more than the budget ever connected.
    `actors.proxy.hostActiveOpens >= ${Math.floor(t.portBudget * 0.95)}`,
    `actors.proxy.hostActiveOpens <= ${Math.ceil(t.portBudget * 1.02)}`,
    ...Array.from({ length: p.backends }, (_, i) => `hosts.backend${i + 1}.peak.total.TIME_WAIT == 0`),
  ];
}

export function shortUpstreamScenario(name: string, engine: Engine, description: string) {
  return defineScenario({
    name,
    description,
    params: proxyParams({ engine, keepAlive: 0 }),
    build: (p) => {
      const t = proxyTopology(p);
      return { ...t.spec, thresholds: shortUpstreamThresholds(p, t) };
    },
  });
}

export default shortUpstreamScenario(
  'proxy-short-upstream',
  'nginx',
  "client -> nginx -> backend, one upstream connection per request closed by the proxy: TIME_WAIT fills the proxy host's ports, then 99: Cannot assign requested address and 502s",
);
