// The built-in engine, for machines with neither nginx nor HAProxy: node:http in front, one undici Pool per
// upstream behind. keepAlive N: up to N pooled connections per upstream; 0: `reset: true` on every request
// (undici sends Connection: close and destroys the socket after the response, so the proxy closes first).
import { endpointText } from '../core/ipv6.ts';
import http from 'node:http';
import { createRequire } from 'node:module';
import { causeOfErrno, type ProxyEngineFactory } from './proxy-engine.ts';
import { deferred } from '../core/deferred.ts';

/** Below the http-server actor's default keepAliveTimeout (5 s), so the pool drops a connection before the server does. */
export const POOL_IDLE_MS = 4_000;

export const builtinEngine: ProxyEngineFactory = (s, ctx, errors) => {
  // Required here, by the one engine that uses it, not by every agent at start-up (undici costs ~0.1 s to load).
  const { Pool } = createRequire(import.meta.url)('undici') as typeof import('undici');
  const pools = s.upstreams.map(
    (u) =>
      new Pool(`http://${endpointText(u.address, u.port)}`, {
        connections: s.keepAlive > 0 ? s.keepAlive : null,
        pipelining: 1,
        keepAliveTimeout: POOL_IDLE_MS,
        connect: { timeout: s.connectTimeoutMs, ...(s.bind ? { localAddress: s.bind } : {}) },
      }),
  );
  const statuses = new Map<number, number>();
  const c = { requests: 0, upstreamRequests: 0, badGateway: 0 };
  let next = 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer(async (req, res) => {
    c.requests++;
    const i = next++ % pools.length;
    const upstream = s.upstreams[i]!;
    try {
      c.upstreamRequests++;
      const up = await pools[i]!.request({
        path: req.url ?? '/',
        method: req.method as 'GET',
        headers: { host: endpointText(upstream.address, upstream.port) },
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
        reset: s.keepAlive === 0,
      });
      const body = Buffer.from(await up.body.arrayBuffer());
      statuses.set(up.statusCode, (statuses.get(up.statusCode) ?? 0) + 1);
      res.writeHead(up.statusCode, {
        'content-type': String(up.headers['content-type'] ?? 'application/octet-stream'),
        'content-length': body.length,
      });
      res.end(body);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const code = e.code && !e.code.startsWith('UND_ERR') ? e.code : (e.cause?.code ?? e.code ?? e.name);
      errors.add({
        line: `${code}: ${e.message}`,
        kind: `${code} toward ${upstream.address}:${upstream.port}`,
        errno: code,
        cause: causeOfErrno(code) ?? 'other',
      });
      c.badGateway++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 12 });
      res.end('bad gateway\n');
    }
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  const ended = deferred();
  const done = ended.promise;
  server.on('close', () => ended.resolve());

  return {
    done,
    start: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: s.port, host: s.listenHost, backlog: 4096 }, () => {
          server.off('error', reject);
          ctx.log('info', 'builtin proxy listening', {
            port: s.port,
            upstreams: s.upstreams.map((u) => endpointText(u.address, u.port)),
          });
          resolve();
        });
      }),
    async close() {
      server.close();
      server.closeIdleConnections();
      await Promise.all(pools.map((p) => p.close()));
      await done;
    },
    destroy() {
      server.close();
      for (const sock of sockets) sock.destroy();
      for (const p of pools) void p.destroy().catch(() => undefined);
    },
    stats: () => ({ ...c, upstreamStatuses: Object.fromEntries(statuses) }),
  };
};
