// The http-client actor's pool on Node's own http.Agent (client: node), keep-alive on: at most `connections`
// sockets (maxSockets) and at most `maxIdle` kept idle (maxFreeSockets). Unlike undici's Pool, a request that
// finds every kept socket busy opens another, and a socket freed while maxIdle are already idle is destroyed
// (lib/_http_agent.js, the 'free' handler: freeLen >= maxFreeSockets -> socket.destroy(), a close(2) with a FIN):
// the client-side pool smaller than its load, as Go's MaxIdleConnsPerHost (default 2) makes it.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { PoolEvents, RequestPool, RequestShape } from './http-client-pool.ts';

export interface NodeAgentPoolOptions extends RequestShape {
  readonly address: string;
  readonly port: number;
  readonly connections: number;
  readonly maxIdle: number;
  readonly keepAliveTimeout: number;
  readonly timeout: number;
}

export function nodeAgentPool(o: NodeAgentPoolOptions, events: PoolEvents): RequestPool {
  const requestsBySocket = new WeakMap<object, number>();
  // A socket the agent makes: counted here, since a request that waited for a busy socket is handed one freed by
  // another request without req.reusedSocket being set (the 'free' handler's pending-request path).
  class CountingAgent extends http.Agent {
    override createConnection(
      options: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      events.newConnection();
      return super.createConnection(options, callback);
    }
  }
  // timeout: an idle kept socket is destroyed after it (shortened by a server's Keep-Alive: timeout hint).
  const agent = new CountingAgent({
    keepAlive: true,
    maxSockets: o.connections,
    maxFreeSockets: o.maxIdle,
    timeout: o.keepAliveTimeout,
  });
  const inFlight = new Set<http.ClientRequest>();
  let drained: (() => void) | undefined;

  const request = () =>
    new Promise<number>((resolve, reject) => {
      const headers = o.body !== undefined ? { 'content-length': Buffer.byteLength(o.body) } : {};
      const req = http.request({
        agent,
        host: o.address,
        port: o.port,
        method: o.method,
        path: o.path,
        headers,
        timeout: o.timeout,
      });
      inFlight.add(req);
      const done = () => {
        inFlight.delete(req);
        if (inFlight.size === 0) drained?.();
      };
      let ordinal = 0;
      req.on('socket', (socket) => {
        ordinal = (requestsBySocket.get(socket) ?? 0) + 1;
        requestsBySocket.set(socket, ordinal);
        if (ordinal > 1) events.requestOnReused();
      });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no response within ${o.timeout} ms`), { code: 'REQUEST_TIMEOUT' })),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (ordinal > 1) events.errorOnReused(err);
        done();
        reject(err);
      });
      req.on('response', (res) => {
        res.on('error', (err) => {
          done();
          reject(err);
        });
        res.on('end', () => {
          done();
          resolve(res.statusCode ?? 0);
        });
        res.resume();
      });
      req.end(o.body);
    });

  return {
    request,
    async close() {
      if (inFlight.size > 0) await new Promise<void>((resolve) => (drained = resolve));
      agent.destroy();
    },
    destroy() {
      for (const req of inFlight) req.destroy();
      agent.destroy();
    },
  };
}
