// An actor's connections as the plan expects them: whom it dials and from which local ports, who is to close
// first and how, what it accepts, and the load it offers. Each actor kind derives it from its own options at
// plan time (actors/*: connections()); the report, its outputs and watch read this, never an actor's options.

/**
 * How an end closes. graceful: shutdown() (a FIN), the fd kept until the peer's FIN; rst: SO_LINGER 0, an RST
 * and no TIME_WAIT; close: close(2) at once, an orphan whose FIN_WAIT_2 tcp_fin_timeout ends; never: held open
 * (the peer's FIN leaves it in CLOSE_WAIT).
 */
export type CloseStyle = 'graceful' | 'rst' | 'close' | 'never';

/** A listening actor an actor connects to. */
export interface Endpoint {
  readonly actor: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** Where the local ports of a dial's connections come from. */
export type LocalPorts =
  /** connect() picks one per 4-tuple from the host's ip_local_port_range (less ip_local_reserved_ports). */
  | { readonly from: 'range' }
  /** bind(ip, 0) before connect(): a port from the same range, but not shared across destinations (EADDRINUSE when out). */
  | { readonly from: 'bind-before-connect'; readonly address: string }
  /** Every connection bound to one port: one 4-tuple per destination. */
  | { readonly from: 'fixed'; readonly port: number }
  /** The actor picks and binds ports of its own range (HAProxy `source addr:lo-hi`), not the host's. */
  | { readonly from: 'own-range'; readonly lo: number; readonly hi: number };

/**
 * Connections per request: a new one each, or a pool of kept-alive ones, how long the pool keeps a connection
 * idle before it closes it itself (absent: not known, e.g. a user's own configuration), and what it does with a
 * request that finds every kept connection busy.
 */
export type PerRequest =
  | { readonly pooled: false }
  | {
      readonly pooled: true;
      readonly connections: number;
      readonly idleTimeoutMs?: number;
      /** Honours a server's `Keep-Alive: timeout=` hint, closing an idle connection this long before it (absent: ignores it). */
      readonly idleHintMarginMs?: number;
      readonly beyondPool?: BeyondPool;
    };

/** Which requests that failed on a connection an end sends again on another: none, idempotent ones only (GET, HEAD, ...), or all. */
export type Retries = 'none' | 'idempotent' | 'all';
/**
 * What a pool does with a request that finds every kept connection busy; absent where the plan did not record it
 * (plans made before issue 23).
 */
export type BeyondPool =
  /** It waits for one: `connections` is the most the pool opens (undici's Pool, autocannon). */
  | { readonly request: 'waits' }
  /**
   * It opens another, and after a response a connection is kept idle only while fewer than `idleKept` are; the
   * rest are closed (nginx upstream `keepalive N`, N per worker; Node's http.Agent maxFreeSockets; Go's
   * MaxIdleConnsPerHost).
   */
  | {
      readonly request: 'opens-and-closes';
      readonly idleKept: number /** The most open at once (Node's maxSockets); absent: no limit. */;
      readonly most?: number;
    };

/** One destination an actor connects to, and how those connections live and end. */
export interface Dial {
  readonly to: Endpoint;
  /** The source address it binds (localAddress, proxy_bind, HAProxy source); absent: the host's own. */
  readonly sourceAddress?: string;
  readonly localPorts: LocalPorts;
  readonly perRequest: PerRequest;
  /** The end told to close first: this one (the client of these connections) or the server it dials. */
  readonly closer: 'client' | 'server';
  /** How this end closes. */
  readonly closeStyle: CloseStyle;
  /** Request body bytes sent with each request (a server that leaves them unread closes with an RST). */
  readonly requestBodyBytes: number;
  /** Writes again after the peer's FIN: the peer, closed, answers with an RST. */
  readonly writesAfterPeerClose: boolean;
  /** Gives a connection up after this long without progress (an idle timeout), where the actor has one. */
  readonly giveUpAfterMs?: number;
  /** Requests this end sends again on another connection when theirs fails (absent: not known). */
  readonly retries?: Retries;
}

/** The connections an actor accepts on its listening port, and how it ends them. */
export interface Accept {
  readonly port: number;
  /** listen() backlog, where the actor sets one (capped by net.core.somaxconn). */
  readonly backlog?: number;
  /** Accepts nothing for this long after listening: connections wait in the accept queue. */
  readonly acceptAfterMs: number;
  /** SO_REUSEADDR on the listening socket (libuv and nginx always set it). */
  readonly reuseAddr: boolean;
  /** A planned restart of the listening socket on the same port, and its SO_REUSEADDR. */
  readonly restart?: { readonly reuseAddr: boolean };
  /** Serves further requests on one connection. */
  readonly keepAlive: boolean;
  /** With keepAlive: closes a kept-alive connection idle this long (absent: never, or not known). */
  readonly idleTimeoutMs?: number;
  /** With keepAlive: tells its clients the idle timeout in a `Keep-Alive: timeout=` header, rounded up to seconds. */
  readonly idleHintMs?: number;
  /** How this end closes. */
  readonly closeStyle: CloseStyle;
  /** Closes with a request body unread: close(2) with unread data sends an RST. */
  readonly unreadBody: boolean;
  /** Holds each accepted connection this long, answering nothing, before it replies (a server that does not answer). */
  readonly answersAfterMs?: number;
}

/** The load an actor offers: an open model's rate, or a closed model's concurrency, bounded by duration and count. */
export type OfferedLoad =
  | {
      readonly model: 'open';
      readonly ratePerSec: number;
      readonly durationMs: number;
      readonly count?: number;
      readonly burst?: Burst;
    }
  | { readonly model: 'closed'; readonly concurrency: number; readonly durationMs: number; readonly count?: number };

/** An open load whose starts come `size` at once every `everyMs` (the rate is their average). */
export interface Burst {
  readonly size: number;
  readonly everyMs: number;
}

export interface ConnectionModel {
  /** What it accepts, when it listens. */
  readonly accepts?: Accept;
  /** Every destination it connects to (a proxy: each upstream). */
  readonly dials: readonly Dial[];
  /** What it offers, when it is a load actor. */
  readonly load?: OfferedLoad;
  /** RLIMIT_NOFILE the actor's process sets for itself, below the host's. */
  readonly nofile?: number;
}

/** An actor that accepts connections and opens its own toward others for them: a proxy. */
export function relays(model: ConnectionModel): boolean {
  return model.accepts !== undefined && model.dials.length > 0;
}

/** A load of one new connection per request (a flood), as opposed to a kept-alive pool. */
export function floods(model: ConnectionModel): boolean {
  return model.load !== undefined && model.dials.some((d) => !d.perRequest.pooled);
}

/** Local ports a dial picks itself, where not from the host's range: one (a fixed port), or its own range's size. */
export function ownPortCount(ports: LocalPorts): number | undefined {
  if (ports.from === 'fixed') return 1;
  if (ports.from === 'own-range') return ports.hi - ports.lo + 1;
  return undefined;
}

/**
 * The most requests a load has in flight at once, where its plan fixes it: a burst's size (all started at once:
 * `together`), or a closed model's concurrency; either capped by a pool that makes requests wait.
 */
export function concurrencyOf(
  model: ConnectionModel,
): { readonly requests: number; readonly together: boolean } | undefined {
  const load = model.load;
  const size = load?.model === 'closed' ? load.concurrency : load?.burst?.size;
  if (size === undefined) return undefined;
  const cap = poolCap(model.dials[0]?.perRequest);
  return { requests: Math.min(size, cap), together: load?.model === 'open' && size <= cap };
}

/** The most connections a pool holds at once: `connections` where requests wait for one, `most` where it opens more. */
function poolCap(per: PerRequest | undefined): number {
  if (!per?.pooled || !per.beyondPool) return Infinity;
  return per.beyondPool.request === 'waits' ? per.connections : (per.beyondPool.most ?? Infinity);
}
