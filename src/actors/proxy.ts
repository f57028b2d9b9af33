// A reverse proxy between clients and upstream servers: real nginx, real HAProxy, or a built-in undici proxy.
// Which one is an option; the upstreams are other actors, resolved to addresses at plan time.
import { endpointText } from '../core/ipv6.ts';
import { listenHost } from './listen-address.ts';
import { readFileSync } from 'node:fs';
import { InvalidValueError } from '../core/errors.ts';
import { f } from '../core/fields.ts';
import type { BeyondPool, Dial, LocalPorts, Retries } from '../core/connection-model.ts';
import type { ActorPlan } from '../core/plan.ts';
import { parseCounterPairs } from '../sampler/kernel-counters.ts';
import { defineActorKind } from './actor.ts';
import { checkOwnAddress, resolveServer } from './link-helpers.ts';
import { engineBinary } from './proxy-binaries.ts';
import { builtinEngine, POOL_IDLE_MS } from './proxy-builtin.ts';
import {
  ErrorLogTally,
  HTTP_REUSE,
  RETRY_ON,
  RETRY_SETS,
  type ProxyEngineFactory,
  type Upstream,
} from './proxy-engine.ts';
import { haproxyEngine } from './proxy-haproxy.ts';
import { NGINX_WORKER_CONNECTIONS } from './nginx-process.ts';
import { nginxEngine } from './proxy-nginx.ts';
import { generatorOptionProblems, resolveUserConfig, type UserConfig } from './proxy-user-config.ts';

const ENGINES = { nginx: nginxEngine, haproxy: haproxyEngine, builtin: builtinEngine } satisfies Record<
  string,
  ProxyEngineFactory
>;

const options = {
  engine: f.oneOf(['nginx', 'haproxy', 'builtin'] as const, {
    default: 'nginx',
    describe:
      'nginx or haproxy (the installed binaries, run by the agent), or builtin (undici, for machines with neither)',
  }),
  port: f.int({ min: 1, max: 65535, default: 80, describe: 'TCP port the proxy listens on' }),
  upstreams: f.string({
    describe: 'comma-separated names of the server actors to proxy to (round robin), e.g. "web1,web2"',
  }),
  keepAlive: f.int({
    min: 0,
    max: 10_000,
    default: 0,
    describe:
      'idle upstream connections kept for reuse (nginx `keepalive N` per worker, HAProxy pool-max-conn per server, undici connections per upstream); 0: one new upstream connection per request, closed by the proxy',
  }),
  bind: f.optional(
    f.ipv4({
      describe: 'source address of upstream connections (nginx proxy_bind, HAProxy source, undici localAddress)',
    }),
  ),
  sourcePorts: f.optional(
    f.portRange({
      describe: 'HAProxy only: per-server source port range (`source 0.0.0.0:40000-40999`), managed by HAProxy itself',
    }),
  ),
  mode: f.oneOf(['http', 'tcp'] as const, {
    default: 'http',
    describe:
      "HAProxy only: http, or tcp (layer 4, mirrors each side's FIN to the other, so a client that closes first makes the proxy close first)",
  }),
  workers: f.int({ min: 1, max: 64, default: 1, describe: 'nginx worker processes / HAProxy threads' }),
  connectTimeout: f.duration({ default: '5s', describe: 'upstream connect timeout' }),
  binary: f.optional(
    f.string({ describe: 'absolute path of the nginx or haproxy executable (default: the installed one)' }),
  ),
  upstreamIdleTimeout: f.optional(
    f.duration({
      min: '1s',
      max: '1h',
      describe:
        'nginx with a pool only: how long an idle upstream connection is kept (upstream `keepalive_timeout`, nginx default 60s)',
    }),
  ),
  upstreamKeepAliveRequests: f.optional(
    f.int({
      min: 1,
      max: 10_000_000,
      describe:
        'nginx with a pool only: requests over one upstream connection before nginx closes it (upstream `keepalive_requests`, default 1000 since 1.19.10)',
    }),
  ),
  retries: f.optional(
    f.oneOf(RETRY_SETS, {
      describe:
        "nginx only: when a request is passed to the next upstream (`proxy_next_upstream`): off, or error-timeout (nginx's default), error-timeout-non-idempotent (POST too), error-timeout-http-502-503-504",
    }),
  ),
  serverTimeout: f.optional(
    f.duration({
      min: '1ms',
      max: '24h',
      describe: 'HAProxy only: `timeout server`, the longest wait for the server to send (default 30s)',
    }),
  ),
  httpKeepAliveTimeout: f.optional(
    f.duration({
      min: '1ms',
      max: '24h',
      describe:
        'HAProxy in http mode only: `timeout http-keep-alive`, how long an idle client connection waits for its next request',
    }),
  ),
  retryOn: f.optional(
    f.oneOf(RETRY_ON, {
      describe:
        "HAProxy in http mode only: `retry-on`: conn-failure (HAProxy's default), or conn-failure-empty-response (also sends again, on another connection, a request whose server closed without answering, POST included)",
    }),
  ),
  poolPurgeDelay: f.optional(
    f.duration({
      min: '1ms',
      max: '1h',
      describe:
        "HAProxy in http mode with a pool (keepAlive > 0) only: the server's `pool-purge-delay` (default 5s): each such interval HAProxy closes half of the idle server connections beyond its estimate of recent need; HAProxy 2.6 has no other bound on an idle server connection's life",
    }),
  ),
  httpReuse: f.optional(
    f.oneOf(HTTP_REUSE, {
      describe: 'HAProxy in http mode with a pool (keepAlive > 0) only: `http-reuse` (default here: always)',
    }),
  ),
  config: f.optional(
    f.string({
      describe:
        "your own nginx.conf (engine nginx) or haproxy.cfg (engine haproxy) instead of the generated one, relative to the scenario file; placeholders are filled from the plan: {{listen}} (this proxy's host address:port), {{upstream.ACTOR}} (an upstream's address:port), {{host.HOST}} (a host's address), {{port.ACTOR}} (an actor's port). Checked with nginx -t / haproxy -c before any lab; options that write configuration lines are refused beside it",
    }),
  ),
  workerConnections: f.optional(
    f.int({
      min: 4,
      max: NGINX_WORKER_CONNECTIONS,
      describe: `nginx only: \`worker_connections\` per worker (default ${NGINX_WORKER_CONNECTIONS}); each proxied request takes two (client and upstream), so a small value reproduces "worker_connections are not enough"`,
    }),
  ),
};

/** Tcp.ActiveOpens of this host's namespace: every connect() that sent a SYN (one failing with EADDRNOTAVAIL sends none). */
function activeOpens(): number {
  return parseCounterPairs(readFileSync('/proc/net/snmp', 'utf8'), ['Tcp'])['Tcp.ActiveOpens'] ?? 0;
}

/** What link() resolves: `connect` (the first upstream), every upstream, the engine's executable and the host's address. */
export interface ProxyLinks {
  readonly connect: NonNullable<ActorPlan['connect']>;
  readonly upstreams: readonly Upstream[];
  readonly engineBinary?: string;
  readonly hostAddress: string;
  /** The user's own file, filled in and checked (option `config`), its text among the plan's files; absent: generated. */
  readonly userConfig?: UserConfig;
  readonly files?: Readonly<Record<string, string>>;
}

export const proxy = defineActorKind({
  kind: 'proxy',
  role: 'server',
  describe: 'reverse proxy (nginx, HAProxy or built-in undici) to one or more upstream server actors',
  options,
  link(o, ctx, where, problems): ProxyLinks | undefined {
    const upstreams: Upstream[] = [];
    const names = o.upstreams
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) problems.push(`${where}.upstreams: name at least one server actor`);
    if (new Set(names).size !== names.length) problems.push(`${where}.upstreams: an upstream is named twice`);
    for (const name of names) {
      const upstream = resolveServer(name, ctx, `${where}.upstreams`, problems);
      if (upstream) upstreams.push(upstream);
    }
    checkOwnAddress(o.bind, ctx, `${where}.bind`, problems);
    if (o.sourcePorts !== undefined && o.engine !== 'haproxy') {
      problems.push(
        `${where}.sourcePorts: only HAProxy manages its own source port range; with ${o.engine} narrow the host's net.ipv4.ip_local_port_range instead`,
      );
    }
    if (o.mode !== 'http' && o.engine !== 'haproxy')
      problems.push(
        `${where}.mode: only HAProxy runs here in tcp mode (nginx's stream module is not loaded by its Debian package by default)`,
      );
    problems.push(...engineOptionProblems(o, where));
    let binary: string | undefined;
    if (o.engine !== 'builtin') binary = engineBinary(o.engine, o.binary, ctx, where, problems);
    else if (o.binary !== undefined)
      problems.push(`${where}.binary: the builtin engine runs in the agent and has no executable`);
    let userConfig: ReturnType<typeof resolveUserConfig>;
    if (o.config !== undefined) {
      problems.push(...generatorOptionProblems(o, options, where));
      if (o.engine === 'builtin')
        problems.push(`${where}.config: the builtin engine has no configuration file (use engine nginx or haproxy)`);
      else if (upstreams.length === names.length)
        userConfig = resolveUserConfig(
          { engine: o.engine, path: o.config, port: o.port, upstreams, binary },
          ctx,
          where,
          problems,
        );
    }
    if (upstreams.length === 0) return undefined;
    const u = upstreams[0]!;
    const linked: ProxyLinks = {
      connect: { actor: u.actor, host: u.host, address: u.address, port: u.port },
      upstreams,
      engineBinary: binary,
      hostAddress: ctx.hosts[ctx.self.host]?.address ?? '0.0.0.0',
      ...userConfig,
    };
    return linked;
  },
  connections: ({ options: o, upstreams, userConfig }) => ({
    accepts: {
      port: o.port,
      acceptAfterMs: 0,
      reuseAddr: true,
      keepAlive: true,
      closeStyle: 'graceful',
      unreadBody: false,
    },
    dials: userConfig
      ? userConfigDials(userConfig, upstreams)
      : upstreams.map((to) => ({
          to,
          ...(o.bind !== undefined ? { sourceAddress: o.bind } : {}),
          localPorts: upstreamPorts(o),
          perRequest:
            o.keepAlive > 0
              ? { pooled: true, connections: o.keepAlive, ...poolIdleTimeout(o), ...beyondPool(o) }
              : { pooled: false },
          // Without keep-alive the proxy ends each upstream connection once the response is in.
          closer: 'client',
          // HAProxy in http mode closes server connections with an RST.
          closeStyle: o.engine === 'haproxy' && o.mode === 'http' ? 'rst' : 'graceful',
          requestBodyBytes: 0,
          writesAfterPeerClose: false,
          ...retriesOf(o),
        })),
  }),
  create(plan, ctx) {
    const o = plan.options;
    const errors = new ErrorLogTally(ctx.now);
    const engine = ENGINES[o.engine](
      {
        name: plan.name,
        port: o.port,
        upstreams: plan.upstreams,
        keepAlive: o.keepAlive,
        bind: o.bind,
        sourcePorts: o.sourcePorts,
        hostAddress: plan.hostAddress,
        listenHost: listenHost(plan),
        workers: o.workers,
        mode: o.mode,
        connectTimeoutMs: o.connectTimeout,
        binary: plan.engineBinary,
        upstreamIdleTimeoutMs: o.upstreamIdleTimeout,
        upstreamKeepAliveRequests: o.upstreamKeepAliveRequests,
        retries: o.retries,
        serverTimeoutMs: o.serverTimeout,
        httpKeepAliveTimeoutMs: o.httpKeepAliveTimeout,
        httpReuse: o.httpReuse,
        poolPurgeDelayMs: o.poolPurgeDelay,
        retryOn: o.retryOn,
        userConfig: plan.userConfig && { text: fileOf(plan, plan.userConfig.fileName) },
        workerConnections: o.workerConnections,
      },
      ctx,
      errors,
    );
    let opensAtStart: number | undefined;
    return {
      done: engine.done,
      async start() {
        opensAtStart = activeOpens();
        await engine.start();
      },
      close: () => engine.close(),
      destroy: () => engine.destroy(),
      stats: () => {
        // First: an engine reads the rest of its log here, before the tally is copied.
        const own = engine.stats();
        return {
          engine: o.engine,
          port: o.port,
          upstreams: plan.upstreams.map((u) => endpointText(u.address, u.port)),
          // With the user's file, the pool and the mode are what the file says (absent where it does not say plainly).
          upstreamKeepAlive: plan.userConfig ? userPool(plan.userConfig) : o.keepAlive,
          mode: plan.userConfig ? userMode(o.engine, plan.userConfig) : o.mode,
          // Where the configuration that ran came from: generated from the options, or the user's file (its path).
          configSource: plan.userConfig?.source ?? 'generated',
          errorLog: errors.toJSON(),
          // Tcp.ActiveOpens of the proxy's host while the proxy ran: its upstream connections as the kernel counted
          // them, as long as nothing else on that host connects out (true of the proxy scenarios).
          hostActiveOpens: opensAtStart === undefined ? null : activeOpens() - opensAtStart,
          ...own,
        };
      },
    };
  },
});

/** Each engine-specific option given where it has no meaning, with the reason. */
function engineOptionProblems(
  o: {
    engine: string;
    mode: string;
    keepAlive: number;
    upstreamIdleTimeout?: number;
    upstreamKeepAliveRequests?: number;
    retries?: string;
    serverTimeout?: number;
    httpKeepAliveTimeout?: number;
    httpReuse?: string;
    poolPurgeDelay?: number;
    retryOn?: string;
    workerConnections?: number;
  },
  where: string,
): string[] {
  const problems: string[] = [];
  const nginxPool = (key: string, directive: string) => {
    if (o.engine !== 'nginx')
      problems.push(
        `${where}.${key}: nginx only (its upstream \`${directive}\`); ${o.engine} has no such setting here`,
      );
    else if (o.keepAlive === 0)
      problems.push(
        `${where}.${key}: needs an upstream keep-alive pool (keepAlive > 0): without one every upstream connection closes after its request`,
      );
  };
  if (o.upstreamIdleTimeout !== undefined) nginxPool('upstreamIdleTimeout', 'keepalive_timeout');
  if (o.upstreamKeepAliveRequests !== undefined) nginxPool('upstreamKeepAliveRequests', 'keepalive_requests');
  if (o.workerConnections !== undefined && o.engine !== 'nginx')
    problems.push(
      `${where}.workerConnections: nginx only (\`worker_connections\`); ${o.engine === 'builtin' ? 'the builtin engine has no connection limit of its own' : "HAProxy's maxconn is not an option here"}`,
    );
  if (o.retries !== undefined && o.engine !== 'nginx')
    problems.push(
      `${where}.retries: nginx only (\`proxy_next_upstream\`); ${o.engine === 'builtin' ? 'the builtin engine never retries' : "HAProxy's retries and redispatch are not options here"}`,
    );
  const haproxy = (key: string, directive: string, needs: { http?: boolean; pool?: boolean } = {}) => {
    if (o.engine !== 'haproxy')
      problems.push(`${where}.${key}: HAProxy only (\`${directive}\`); ${o.engine} has no such setting here`);
    else if (needs.http && o.mode !== 'http')
      problems.push(
        `${where}.${key}: HAProxy in http mode only: in tcp mode there are no requests to keep a connection alive between`,
      );
    else if (needs.pool && o.keepAlive === 0)
      problems.push(
        `${where}.${key}: needs an upstream pool (keepAlive > 0): without one HAProxy runs http-server-close and never reuses a server connection`,
      );
  };
  if (o.serverTimeout !== undefined) haproxy('serverTimeout', 'timeout server');
  if (o.httpKeepAliveTimeout !== undefined) haproxy('httpKeepAliveTimeout', 'timeout http-keep-alive', { http: true });
  if (o.httpReuse !== undefined) haproxy('httpReuse', 'http-reuse', { http: true, pool: true });
  if (o.poolPurgeDelay !== undefined) haproxy('poolPurgeDelay', 'pool-purge-delay', { http: true, pool: true });
  if (o.retryOn !== undefined) haproxy('retryOn', 'retry-on', { http: true });
  return problems;
}

/** One of the actor's plan files (the filled-in config), which link() put there beside the name it gave. */
function fileOf(plan: ActorPlan, name: string): string {
  const text = plan.files?.[name];
  if (text === undefined)
    throw new InvalidValueError(`proxy ${plan.name}: its plan names ${name} but holds no such file`);
  return text;
}

function userPool(config: UserConfig): number | undefined {
  const per = config.upstreamUse?.perRequest;
  return per === undefined ? undefined : per.pooled ? per.connections : 0;
}

/** nginx runs HTTP here (its stream module is not loaded); HAProxy closes by RST in http mode and by FIN in tcp mode. */
function userMode(engine: string, config: UserConfig): 'http' | 'tcp' | undefined {
  if (engine === 'nginx') return 'http';
  const style = config.upstreamUse?.closeStyle;
  return style === undefined ? undefined : style === 'rst' ? 'http' : 'tcp';
}

/** A proxy with the user's own file: its upstreams as the file makes it use them, or none claimed where it does not say. */
function userConfigDials(config: UserConfig, upstreams: readonly Upstream[]): Dial[] {
  const use = config.upstreamUse;
  if (!use) return [];
  return upstreams.map((to) => ({
    to,
    localPorts: { from: 'range' },
    perRequest: use.perRequest,
    closer: 'client',
    closeStyle: use.closeStyle,
    requestBodyBytes: 0,
    writesAfterPeerClose: false,
  }));
}

/**
 * Where a proxy's upstream connections take their local ports: HAProxy's own range, bind-before-connect for
 * the builtin engine (undici's localAddress is net.connect's), and the host's range otherwise: nginx's
 * proxy_bind sets IP_BIND_ADDRESS_NO_PORT, so connect() still picks the port per 4-tuple.
 */
function upstreamPorts(o: { engine: string; bind?: string; sourcePorts?: { lo: number; hi: number } }): LocalPorts {
  if (o.sourcePorts) return { from: 'own-range', lo: o.sourcePorts.lo, hi: o.sourcePorts.hi };
  if (o.engine === 'builtin' && o.bind !== undefined) return { from: 'bind-before-connect', address: o.bind };
  return { from: 'range' };
}

/** How long the pool keeps an idle upstream connection: nginx's upstream keepalive_timeout (60 s unless set), the builtin's undici pool; HAProxy purges idle server connections by pool-purge-delay, not modelled here. */
function poolIdleTimeout(o: { engine: string; upstreamIdleTimeout?: number }): { idleTimeoutMs?: number } {
  if (o.engine === 'nginx') return { idleTimeoutMs: o.upstreamIdleTimeout ?? 60_000 };
  if (o.engine === 'builtin') return { idleTimeoutMs: POOL_IDLE_MS };
  return {};
}

/**
 * Which failed requests go to another connection: nginx's proxy_next_upstream (default `error timeout`) never
 * passes on a POST, LOCK or PATCH once its request was sent, unless `non_idempotent`; the builtin never retries.
 */
function retriesOf(o: { engine: string; retries?: (typeof RETRY_SETS)[number]; retryOn?: (typeof RETRY_ON)[number] }): {
  retries?: Retries;
} {
  if (o.engine === 'builtin') return { retries: 'none' };
  // HAProxy: conn-failure retries only a connection that was never made; empty-response any request, POST included.
  if (o.engine === 'haproxy')
    return o.retryOn === undefined ? {} : { retries: o.retryOn === 'conn-failure' ? 'none' : 'all' };
  if (o.engine !== 'nginx') return {};
  if (o.retries === 'off') return { retries: 'none' };
  return { retries: o.retries === 'error-timeout-non-idempotent' ? 'all' : 'idempotent' };
}

/**
 * A request that finds the pool busy: nginx opens another upstream connection and keeps at most `keepalive N`
 * idle per worker, closing the rest after their response (ngx_http_upstream_keepalive_module); the builtin
 * engine's undici Pool makes it wait. HAProxy's pool-max-conn is not modelled here: left unrecorded.
 */
function beyondPool(o: { engine: string; keepAlive: number; workers: number }): { beyondPool?: BeyondPool } {
  if (o.engine === 'nginx') return { beyondPool: { request: 'opens-and-closes', idleKept: o.keepAlive * o.workers } };
  if (o.engine === 'builtin') return { beyondPool: { request: 'waits' } };
  return {};
}

/** A proxy's plan entry with its links, or undefined for any other kind. */
export function proxyPlan(plan: ActorPlan): (ActorPlan & ProxyLinks) | undefined {
  return plan.kind === proxy.kind ? (plan as ActorPlan & ProxyLinks) : undefined;
}
