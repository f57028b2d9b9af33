// The http-client actor's pool on undici (client: undici): a Pool of at most `connections` sockets; a request
// that finds them all busy waits for one (undici never opens more), and an idle socket is closed after
// keepAliveTimeout (or the server's Keep-Alive hint less undici's threshold). Which socket carried a request
// comes from undici's diagnostics channels.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { buildConnector as BuildConnector, Dispatcher } from 'undici';
import type { PoolEvents, RequestPool, RequestShape } from './http-client-pool.ts';

export interface UndiciPoolOptions extends RequestShape {
  readonly origin: string;
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAliveTimeout: number;
  readonly keepAliveMaxTimeout: number;
  readonly timeout: number;
  readonly retries: number;
}

/** undici's internal request object, as its diagnostics channels hand it over. */
type UndiciRequest = object;

export function undiciPool(o: UndiciPoolOptions, events: PoolEvents): RequestPool {
  // Required here, when an http-client is made, not by every process that loads the registry (the CLI included):
  // undici costs ~0.1 s to load, and loading it under a small address-space limit failed (its WebAssembly parser).
  const { Pool, buildConnector, interceptors } = createRequire(import.meta.url)('undici') as typeof import('undici');
  const requestsBySocket = new WeakMap<Socket, number>();
  const ordinalOf = new WeakMap<UndiciRequest, number>();
  const baseConnector = buildConnector({});
  // undici wraps a custom connector before its diagnostics see it: the sockets are known here instead.
  const connector: BuildConnector.connector = (opts, cb) =>
    baseConnector(opts, (...args: Parameters<BuildConnector.Callback>) => {
      const [err, socket] = args;
      if (!err && socket) {
        events.newConnection();
        requestsBySocket.set(socket as Socket, 0);
      }
      (cb as (...a: unknown[]) => void)(...args);
    });
  const pool = new Pool(o.origin, {
    connections: o.connections,
    pipelining: o.pipelining,
    keepAliveTimeout: o.keepAliveTimeout,
    keepAliveMaxTimeout: Math.max(o.keepAliveMaxTimeout, o.keepAliveTimeout),
    headersTimeout: o.timeout,
    bodyTimeout: o.timeout,
    connect: connector,
  });
  const dispatcher: Dispatcher =
    o.retries > 0
      ? pool.compose(
          interceptors.retry({
            maxRetries: o.retries,
            methods: [o.method as Dispatcher.HttpMethod],
            minTimeout: 0,
            maxTimeout: 0,
          }),
        )
      : pool;

  const onSendHeaders = (m: unknown) => {
    const { request, socket } = m as { request: UndiciRequest; socket: Socket };
    const before = requestsBySocket.get(socket);
    if (before === undefined) return;
    requestsBySocket.set(socket, before + 1);
    ordinalOf.set(request, before + 1);
    if (before > 0) events.requestOnReused();
  };
  const onRequestError = (m: unknown) => {
    const { request, error } = m as { request: UndiciRequest; error: NodeJS.ErrnoException };
    if ((ordinalOf.get(request) ?? 0) > 1) events.errorOnReused(error);
  };
  const channels: [string, (m: unknown) => void][] = [
    ['undici:client:sendHeaders', onSendHeaders],
    ['undici:request:error', onRequestError],
  ];
  let subscribed = false;
  const unsubscribe = () => {
    if (subscribed) channels.forEach(([name, fn]) => diagnostics.unsubscribe(name, fn));
    subscribed = false;
  };

  return {
    async request() {
      if (!subscribed) channels.forEach(([name, fn]) => diagnostics.subscribe(name, fn));
      subscribed = true;
      const res = await dispatcher.request({
        origin: o.origin,
        path: o.path,
        method: o.method as Dispatcher.HttpMethod,
        ...(o.body !== undefined ? { body: o.body } : {}),
      });
      await res.body.dump();
      return res.statusCode;
    },
    async close() {
      await pool.close();
      unsubscribe();
    },
    destroy() {
      void pool.destroy().catch(() => undefined);
      unsubscribe();
    },
  };
}
