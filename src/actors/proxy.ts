// A reverse proxy between clients and upstream servers: real nginx, real HAProxy, or a built-in undici proxy.
// Which one is an option; the upstreams are other actors, resolved to addresses at plan time.
import { readFileSync } from 'node:fs';
import { f } from '../core/fields.ts';
import type { BeyondPool, LocalPorts } from '../core/connection-model.ts';
import type { ActorPlan } from '../core/plan.ts';
import { parseCounterPairs } from '../sampler/kernel-counters.ts';
import { defineActorKind } from './actor.ts';
import { checkOwnAddress, resolveServer } from './link-helpers.ts';
import { engineBinary } from './proxy-binaries.ts';
import { builtinEngine } from './proxy-builtin.ts';
import { ErrorLogTally, HTTP_REUSE, RETRY_SETS, type ProxyEngineFactory, type Upstream } from './proxy-engine.ts';
import { haproxyEngine } from './proxy-haproxy.ts';
import { nginxEngine } from './proxy-nginx.ts';

const ENGINES = { nginx: nginxEngine, haproxy: haproxyEngine, builtin: builtinEngine } satisfies Record<string, ProxyEngineFactory>;

const options = {
  engine: f.oneOf(['nginx', 'haproxy', 'builtin'] as const, {
    default: 'nginx',
    describe: 'nginx or haproxy (the installed binaries, run by the agent), or builtin (undici, for machines with neither)',
  }),
  port: f.int({ min: 1, max: 65535, default: 80, describe: 'TCP port the proxy listens on' }),
  upstreams: f.string({ describe: 'comma-separated names of the server actors to proxy to (round robin), e.g. "web1,web2"' }),
  keepAlive: f.int({
    min: 0,
    max: 10_000,
    default: 0,
    describe: 'idle upstream connections kept for reuse (nginx `keepalive N` per worker, HAProxy pool-max-conn per server, undici connections per upstream); 0: one new upstream connection per request, closed by the proxy',
  }),
  bind: f.optional(f.ipv4({ describe: 'source address of upstream connections (nginx proxy_bind, HAProxy source, undici localAddress)' })),
  sourcePorts: f.optional(f.portRange({ describe: 'HAProxy only: per-server source port range (`source 0.0.0.0:40000-40999`), managed by HAProxy itself' })),
  mode: f.oneOf(['http', 'tcp'] as const, {
    default: 'http',
    describe: 'HAProxy only: http, or tcp (layer 4, mirrors each side\'s FIN to the other, so a client that closes first makes the proxy close first)',
  }),
  workers: f.int({ min: 1, max: 64, default: 1, describe: 'nginx worker processes / HAProxy threads' }),
  connectTimeout: f.duration({ default: '5s', describe: 'upstream connect timeout' }),
  binary: f.optional(f.string({ describe: 'absolute path of the nginx or haproxy executable (default: the installed one)' })),
  upstreamIdleTimeout: f.optional(f.duration({ min: '1s', max: '1h', describe: 'nginx with a pool only: how long an idle upstream connection is kept (upstream `keepalive_timeout`, nginx default 60s)' })),
  upstreamKeepAliveRequests: f.optional(f.int({ min: 1, max: 10_000_000, describe: 'nginx with a pool only: requests over one upstream connection before nginx closes it (upstream `keepalive_requests`, default 1000 since 1.19.10)' })),
  retries: f.optional(f.oneOf(RETRY_SETS, { describe: 'nginx only: when a request is passed to the next upstream (`proxy_next_upstream`): off, or error-timeout (nginx\'s default), error-timeout-non-idempotent (POST too), error-timeout-http-502-503-504' })),
  serverTimeout: f.optional(f.duration({ min: '1ms', max: '24h', describe: 'HAProxy only: `timeout server`, the longest wait for the server to send (default 30s)' })),
  httpKeepAliveTimeout: f.optional(f.duration({ min: '1ms', max: '24h', describe: 'HAProxy in http mode only: `timeout http-keep-alive`, how long an idle client connection waits for its next request' })),
  httpReuse: f.optional(f.oneOf(HTTP_REUSE, { describe: 'HAProxy in http mode with a pool (keepAlive > 0) only: `http-reuse` (default here: always)' })),
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
}

export const proxy = defineActorKind({
  kind: 'proxy',
  role: 'server',
  describe: 'reverse proxy (nginx, HAProxy or built-in undici) to one or more upstream server actors',
  options,
  link(o, ctx, where, problems): ProxyLinks | undefined {
    const upstreams: Upstream[] = [];
    const names = o.upstreams.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) problems.push(`${where}.upstreams: name at least one server actor`);
    if (new Set(names).size !== names.length) problems.push(`${where}.upstreams: an upstream is named twice`);
    for (const name of names) {
      const upstream = resolveServer(name, ctx, `${where}.upstreams`, problems);
      if (upstream) upstreams.push(upstream);
    }
    checkOwnAddress(o.bind, ctx, `${where}.bind`, problems);
    if (o.sourcePorts !== undefined && o.engine !== 'haproxy') {
      problems.push(`${where}.sourcePorts: only HAProxy manages its own source port range; with ${o.engine} narrow the host's net.ipv4.ip_local_port_range instead`);
    }
    if (o.mode !== 'http' && o.engine !== 'haproxy') problems.push(`${where}.mode: only HAProxy runs here in tcp mode (nginx's stream module is not loaded by its Debian package by default)`);
    problems.push(...engineOptionProblems(o, where));
    let binary: string | undefined;
    if (o.engine !== 'builtin') binary = engineBinary(o.engine, o.binary, ctx, where, problems);
    else if (o.binary !== undefined) problems.push(`${where}.binary: the builtin engine runs in the agent and has no executable`);
    if (upstreams.length === 0) return undefined;
    const u = upstreams[0]!;
    const linked: ProxyLinks = { connect: { actor: u.actor, host: u.host, address: u.address, port: u.port }, upstreams, engineBinary: binary, hostAddress: ctx.hosts[ctx.self.host]?.address ?? '0.0.0.0' };
    return linked;
  },
  connections: ({ options: o, upstreams }) => ({
    accepts: { port: o.port, acceptAfterMs: 0, reuseAddr: true, keepAlive: true, closeStyle: 'graceful', unreadBody: false },
    dials: upstreams.map((to) => ({
      to,
      ...(o.bind !== undefined ? { sourceAddress: o.bind } : {}),
      localPorts: upstreamPorts(o),
      perRequest: o.keepAlive > 0 ? { pooled: true, connections: o.keepAlive, ...beyondPool(o) } : { pooled: false },
      // Without keep-alive the proxy ends each upstream connection once the response is in.
      closer: 'client',
      // HAProxy in http mode closes server connections with an RST.
      closeStyle: o.engine === 'haproxy' && o.mode === 'http' ? 'rst' : 'graceful',
      requestBodyBytes: 0,
      writesAfterPeerClose: false,
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
      stats: () => ({
        engine: o.engine,
        port: o.port,
        upstreams: plan.upstreams.map((u) => `${u.address}:${u.port}`),
        upstreamKeepAlive: o.keepAlive,
        mode: o.mode,
        errorLog: errors.toJSON(),
        // Tcp.ActiveOpens of the proxy's host while the proxy ran: its upstream connections as the kernel counted
        // them, as long as nothing else on that host connects out (true of the proxy scenarios).
        hostActiveOpens: opensAtStart === undefined ? null : activeOpens() - opensAtStart,
        ...engine.stats(),
      }),
    };
  },
});

/** Each engine-specific option given where it has no meaning, with the reason. */
function engineOptionProblems(
  o: { engine: string; mode: string; keepAlive: number; upstreamIdleTimeout?: number; upstreamKeepAliveRequests?: number; retries?: string; serverTimeout?: number; httpKeepAliveTimeout?: number; httpReuse?: string },
  where: string,
): string[] {
  const problems: string[] = [];
  const nginxPool = (key: string, directive: string) => {
    if (o.engine !== 'nginx') problems.push(`${where}.${key}: nginx only (its upstream \`${directive}\`); ${o.engine} has no such setting here`);
    else if (o.keepAlive === 0) problems.push(`${where}.${key}: needs an upstream keep-alive pool (keepAlive > 0): without one every upstream connection closes after its request`);
  };
  if (o.upstreamIdleTimeout !== undefined) nginxPool('upstreamIdleTimeout', 'keepalive_timeout');
  if (o.upstreamKeepAliveRequests !== undefined) nginxPool('upstreamKeepAliveRequests', 'keepalive_requests');
  if (o.retries !== undefined && o.engine !== 'nginx') problems.push(`${where}.retries: nginx only (\`proxy_next_upstream\`); ${o.engine === 'builtin' ? 'the builtin engine never retries' : 'HAProxy\'s retries and redispatch are not options here'}`);
  const haproxy = (key: string, directive: string, needs: { http?: boolean; pool?: boolean } = {}) => {
    if (o.engine !== 'haproxy') problems.push(`${where}.${key}: HAProxy only (\`${directive}\`); ${o.engine} has no such setting here`);
    else if (needs.http && o.mode !== 'http') problems.push(`${where}.${key}: HAProxy in http mode only: in tcp mode there are no requests to keep a connection alive between`);
    else if (needs.pool && o.keepAlive === 0) problems.push(`${where}.${key}: needs an upstream pool (keepAlive > 0): without one HAProxy runs http-server-close and never reuses a server connection`);
  };
  if (o.serverTimeout !== undefined) haproxy('serverTimeout', 'timeout server');
  if (o.httpKeepAliveTimeout !== undefined) haproxy('httpKeepAliveTimeout', 'timeout http-keep-alive', { http: true });
  if (o.httpReuse !== undefined) haproxy('httpReuse', 'http-reuse', { http: true, pool: true });
  return problems;
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
