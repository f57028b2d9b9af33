// What every proxy engine (nginx, HAProxy, the built-in undici proxy) is given and gives back, and the
// tally of its own error lines, normalised to causes that thresholds and findings can name.
import { isIpv6 } from '../core/ipv6.ts';
import { InvalidValueError } from '../core/errors.ts';
import { isIpv4, type PortRange } from '../core/units.ts';
import type { Actor, ActorContext } from './actor.ts';

export interface Upstream {
  readonly actor: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** nginx `proxy_next_upstream` sets by name (see NEXT_UPSTREAM in proxy-nginx.ts). */
export const RETRY_SETS = [
  'off',
  'error-timeout',
  'error-timeout-non-idempotent',
  'error-timeout-http-502-503-504',
] as const;
/** HAProxy `retry-on` sets by name: conn-failure (its default), and with empty-response (L7 retries of a request whose server closed without answering). */
export const RETRY_ON = ['conn-failure', 'conn-failure-empty-response'] as const;
/** HAProxy `http-reuse` strategies. */
export const HTTP_REUSE = ['never', 'safe', 'aggressive', 'always'] as const;

export interface ProxySettings {
  readonly name: string;
  readonly port: number;
  readonly upstreams: readonly Upstream[];
  /** Idle upstream connections kept per worker; 0: one upstream connection per request. */
  readonly keepAlive: number;
  readonly bind: string | undefined;
  readonly sourcePorts: PortRange | undefined;
  /** The proxy host's own address on the lab network. */
  readonly hostAddress: string;
  /** The wildcard it listens on (listen-address.ts). */
  readonly listenHost: '0.0.0.0' | '::';
  readonly workers: number;
  /** HAProxy only: http (an HTTP proxy) or tcp (layer 4: each client connection gets its own upstream connection). */
  readonly mode: 'http' | 'tcp';
  readonly connectTimeoutMs: number;
  /** Absolute path of the engine's executable (external engines only), resolved at plan time. */
  readonly binary: string | undefined;
  /** nginx with a pool: upstream `keepalive_timeout`; undefined: nginx's own default (60 s). */
  readonly upstreamIdleTimeoutMs?: number | undefined;
  /** nginx with a pool: upstream `keepalive_requests`. */
  readonly upstreamKeepAliveRequests?: number | undefined;
  /** nginx: `proxy_next_upstream`, by name; undefined: nginx's default (error timeout). */
  readonly retries?: (typeof RETRY_SETS)[number] | undefined;
  /** HAProxy: `timeout server`; undefined: 30 s. */
  readonly serverTimeoutMs?: number | undefined;
  /** HAProxy http mode: `timeout http-keep-alive`. */
  readonly httpKeepAliveTimeoutMs?: number | undefined;
  /** HAProxy http mode: `retry-on`, by name; undefined: HAProxy's default (conn-failure). */
  readonly retryOn?: (typeof RETRY_ON)[number] | undefined;
  /** HAProxy http mode with a pool: the server's `pool-purge-delay`; undefined: HAProxy's 5 s. */
  readonly poolPurgeDelayMs?: number | undefined;
  /** HAProxy http mode with a pool: `http-reuse`; undefined: always. */
  readonly httpReuse?: (typeof HTTP_REUSE)[number] | undefined;
  /** The user's own file, filled in and checked at plan time: run as it is instead of a generated configuration. */
  readonly userConfig?: { readonly text: string } | undefined;
  /** nginx: `worker_connections`; undefined: 1000. */
  readonly workerConnections?: number | undefined;
}

/** An engine has an actor's lifecycle; its `done` resolves when it has stopped, by close(), destroy() or by itself. */
export type ProxyEngine = Actor<EngineStats>;

/** What an engine adds to the proxy's stats; each engine fills in its own fields. */
export interface EngineStats {
  /** nginx: `nginx -v`. */
  version?: string;
  /** nginx: master and workers, or one process (rootless). */
  processModel?: string;
  /** nginx, HAProxy: how the process ended when it exited before it was stopped. */
  exitedEarly?: string | null;
  /** nginx, HAProxy: the configuration that ran (generated, or the user's file filled in). */
  config?: string;
  /** HAProxy: its log's termination states, most frequent first. */
  terminations?: Record<string, number>;
  /** HAProxy: the last lines of its stderr. */
  stderr?: string[];
  /** builtin: requests received, forwarded upstream, and answered 502. */
  requests?: number;
  upstreamRequests?: number;
  badGateway?: number;
  upstreamStatuses?: Record<string, number>;
}

export interface ErrorLogCounts {
  lines: number;
  /** Every cause, 0 when never seen. */
  causes: Record<Cause, number>;
  errno: Record<string, number>;
  levels: Record<string, number>;
  /** Lines by kind, most frequent first. */
  kinds: Record<string, number>;
  first: { line: string; atMs: number } | null;
}

/**
 * Every value a generator writes into nginx's or HAProxy's configuration, checked for its type once more:
 * options are parsed at plan time, and a generated configuration runs as root, so a value that is not an
 * address, a port or a count never reaches one (a `;` or a newline would be a directive of its own).
 */
export function assertConfigSafe(s: ProxySettings): void {
  const bad: string[] = [];
  const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(s.name)) bad.push(`name ${JSON.stringify(s.name)}`);
  if (!port(s.port)) bad.push(`port ${s.port}`);
  if (s.listenHost !== '0.0.0.0' && s.listenHost !== '::') bad.push(`listen address ${JSON.stringify(s.listenHost)}`);
  if (s.bind !== undefined && !isIpv4(s.bind) && !isIpv6(s.bind)) bad.push(`bind ${JSON.stringify(s.bind)}`);
  if (!isIpv4(s.hostAddress) && !isIpv6(s.hostAddress)) bad.push(`host address ${JSON.stringify(s.hostAddress)}`);
  for (const u of s.upstreams)
    if ((!isIpv4(u.address) && !isIpv6(u.address)) || !port(u.port))
      bad.push(`upstream ${JSON.stringify(`${u.address}:${u.port}`)}`);
  if (s.sourcePorts && !(port(s.sourcePorts.lo) && port(s.sourcePorts.hi)))
    bad.push(`source ports ${JSON.stringify(s.sourcePorts)}`);
  for (const [k, v] of [
    ['keepAlive', s.keepAlive],
    ['workers', s.workers],
    ['connectTimeoutMs', s.connectTimeoutMs],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) bad.push(`${k} ${v}`);
  }
  for (const [k, v] of [
    ['upstreamIdleTimeoutMs', s.upstreamIdleTimeoutMs],
    ['upstreamKeepAliveRequests', s.upstreamKeepAliveRequests],
    ['serverTimeoutMs', s.serverTimeoutMs],
    ['httpKeepAliveTimeoutMs', s.httpKeepAliveTimeoutMs],
    ['poolPurgeDelayMs', s.poolPurgeDelayMs],
    ['workerConnections', s.workerConnections],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) bad.push(`${k} ${v}`);
  }
  if (s.retries !== undefined && !(RETRY_SETS as readonly string[]).includes(s.retries))
    bad.push(`retries ${JSON.stringify(s.retries)}`);
  if (s.retryOn !== undefined && !(RETRY_ON as readonly string[]).includes(s.retryOn))
    bad.push(`retryOn ${JSON.stringify(s.retryOn)}`);
  if (s.httpReuse !== undefined && !(HTTP_REUSE as readonly string[]).includes(s.httpReuse))
    bad.push(`httpReuse ${JSON.stringify(s.httpReuse)}`);
  if (bad.length)
    throw new InvalidValueError(`refusing to write a ${s.mode} proxy configuration with ${bad.join(', ')}`);
}

export type ProxyEngineFactory = (settings: ProxySettings, ctx: ActorContext, errors: ErrorLogTally) => ProxyEngine;

/**
 * Engine-independent causes. portsExhausted: connect() toward an upstream failed for want of a local port
 * (nginx "(99: Cannot assign requested address)", HAProxy "no free ports", undici EADDRNOTAVAIL). workerConnections:
 * nginx had no connection slot left for a client or an upstream connection ("worker_connections are not enough").
 */
export const CAUSES = [
  'portsExhausted',
  'addressInUse',
  'noLiveUpstreams',
  'upstreamRefused',
  'upstreamTimeout',
  'upstreamReset',
  'upstreamClosedEarly',
  'workerConnections',
  'other',
] as const;
export type Cause = (typeof CAUSES)[number];

/** Distinct kinds remembered; past it, new kinds are counted under one overflow key. */
const MAX_KINDS = 32;
const OVERFLOW_KIND = '(other kinds)';

/** The proxy's own error log, counted by kind (the message without times, pids and connection numbers) and by cause. */
export class ErrorLogTally {
  private readonly kinds = new Map<string, number>();
  private readonly causes = new Map<Cause, number>();
  private readonly errnos = new Map<string, number>();
  private readonly levels = new Map<string, number>();
  lines = 0;
  first: { line: string; atMs: number } | null = null;

  constructor(private readonly now: () => number) {}

  add(entry: { line: string; kind: string; cause: Cause; level?: string; errno?: string }): void {
    this.lines++;
    this.first ??= { line: entry.line, atMs: this.now() };
    const kind = this.kinds.has(entry.kind) || this.kinds.size < MAX_KINDS ? entry.kind : OVERFLOW_KIND;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    this.causes.set(entry.cause, (this.causes.get(entry.cause) ?? 0) + 1);
    if (entry.errno) this.errnos.set(entry.errno, (this.errnos.get(entry.errno) ?? 0) + 1);
    if (entry.level) this.levels.set(entry.level, (this.levels.get(entry.level) ?? 0) + 1);
  }

  toJSON(): ErrorLogCounts {
    return {
      lines: this.lines,
      // Every cause is present, 0 when never seen: a threshold on "no 99 errors" must find a number.
      causes: Object.fromEntries(CAUSES.map((c) => [c, this.causes.get(c) ?? 0])) as Record<Cause, number>,
      errno: Object.fromEntries(this.errnos),
      levels: Object.fromEntries(this.levels),
      kinds: Object.fromEntries([...this.kinds].sort((a, b) => b[1] - a[1])),
      first: this.first,
    };
  }
}

/** errno name -> cause, for engines that report an errno (nginx's "(99: ...)", node's err.code). */
export function causeOfErrno(code: string | undefined): Cause | undefined {
  switch (code) {
    case 'EADDRNOTAVAIL':
      return 'portsExhausted';
    case 'EADDRINUSE':
      return 'addressInUse';
    case 'ECONNREFUSED':
      return 'upstreamRefused';
    case 'ETIMEDOUT':
      return 'upstreamTimeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'upstreamReset';
    default:
      return undefined;
  }
}
