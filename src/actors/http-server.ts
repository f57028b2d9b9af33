// An HTTP/1.1 server on node:net rather than node:http, because the lab must choose who closes and how:
// node:http ends a socket on the peer's FIN (socketOnEnd) and after every `Connection: close` response on
// its own terms, so neither a client-first close without keep-alive nor a CLOSE_WAIT leak can be expressed.
// Here the request head is parsed by hand (as undici's tests do for edge cases) and closing is explicit.
// With engine nginx the same actor runs a real nginx instead (http-server-nginx.ts), for floods that must not be
// bounded by a Node server.
import { listenHost } from './listen-address.ts';
import net from 'node:net';
import { f } from '../core/fields.ts';
import { defineActorKind, type ActorContext } from './actor.ts';
import { ErrorTally } from './error-tally.ts';
import { deferred } from '../core/deferred.ts';
import { engineBinary } from './proxy-binaries.ts';
import { nginxServer, type NginxServerStats } from './http-server-nginx.ts';
import type { Actor } from './actor.ts';

const options = {
  engine: f.oneOf(['node', 'nginx'] as const, {
    default: 'node',
    describe:
      'node: this server (every close style, counts per connection); nginx: the installed nginx serving responseBytes (keep-alive, closer, responseBytes, backlog; graceful closes only)',
  }),
  workers: f.int({ min: 1, max: 64, default: 1, describe: 'engine nginx: worker processes' }),
  binary: f.optional(
    f.string({ describe: 'engine nginx: absolute path of the nginx executable (default: the installed one)' }),
  ),
  port: f.int({ min: 1, max: 65535, default: 8080, describe: 'TCP port to listen on' }),
  keepAlive: f.bool({ default: true, describe: 'serve further requests on the same connection' }),
  keepAliveTimeout: f.duration({
    default: '5s',
    describe: "idle time after which the server closes a kept-alive connection (Node's http default: 5s)",
  }),
  keepAliveHeader: f.bool({
    default: true,
    describe:
      'send `Keep-Alive: timeout=N` with kept-alive responses, as Node does (undici then closes an idle connection itself, 2 s before N)',
  }),
  keepAliveRequests: f.int({
    min: 0,
    max: 1_000_000_000,
    default: 0,
    describe:
      "close a kept-alive connection after this many requests (nginx keepalive_requests); 0: no limit (engine node), nginx's 1000 otherwise not imposed",
  }),
  body: f.oneOf(['length', 'close-delimited'] as const, {
    default: 'length',
    describe:
      'length: Content-Length; close-delimited: no length, the body ends when the server closes (HTTP/1.0 style), so the server surely closes first, every request',
  }),
  status: f.int({
    min: 200,
    max: 599,
    default: 200,
    describe: 'the status of every response (e.g. 502, a failing backend)',
  }),
  closer: f.oneOf(['server', 'client'] as const, {
    default: 'server',
    describe:
      'without keep-alive, who closes first: the server right after the response, or the client (the server waits for its FIN)',
  }),
  closeStyle: f.oneOf(['graceful', 'rst', 'never', 'close'] as const, {
    default: 'graceful',
    describe:
      "graceful: shutdown (FIN), keep the fd until the peer's FIN; rst: SO_LINGER 0 (resetAndDestroy), no TIME_WAIT here; never: leak the socket (CLOSE_WAIT after the peer FIN); close: close(2) the fd at once (an orphan: tcp_fin_timeout ends its FIN_WAIT_2)",
  }),
  requestBody: f.oneOf(['read', 'unread'] as const, {
    default: 'read',
    describe:
      'unread: answer as soon as a request head with a body arrives and close(2) without reading the body (the kernel then sends RST, not FIN)',
  }),
  responseBytes: f.int({ min: 0, max: 16 * 1024 * 1024, default: 64, describe: 'response body size' }),
  delay: f.duration({ default: 0, describe: 'time between a request and its response' }),
  backlog: f.int({
    min: 1,
    max: 65535,
    default: 511,
    describe: "listen() backlog (capped by the host's net.core.somaxconn)",
  }),
};

// A type, not an interface: stats are read as plain records (Record<string, unknown>) by the report.
type NodeServerStats = {
  engine: 'node';
  accepted: number;
  requests: number;
  responses: number;
  serverClosedFirst: number;
  peerClosedFirst: number;
  /** Kept-alive connections the server closed after keepAliveTimeout without a request (of serverClosedFirst). */
  idleCloses: number;
  resetsSent: number;
  leaked: number;
  closedUnread: number;
  open: number;
  errors: ReturnType<ErrorTally['toJSON']>;
};

const HEAD_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const MAX_HEAD = 64 * 1024;

/** keepAliveHint: the Keep-Alive timeout in seconds to announce, or undefined for none. closeDelimited: no Content-Length. */
function responseFor(
  status: string,
  body: Buffer,
  keepAlive: boolean,
  keepAliveHint?: number,
  closeDelimited = false,
): Buffer {
  const connection = keepAlive
    ? `Connection: keep-alive${keepAliveHint !== undefined ? `\r\nKeep-Alive: timeout=${keepAliveHint}` : ''}`
    : 'Connection: close';
  const length = closeDelimited ? '' : `Content-Length: ${body.length}\r\n`;
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\n${length}${connection}\r\n\r\n`),
    body,
  ]);
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

interface RequestHead {
  keepAlive: boolean;
  bodyBytes: number;
  chunked: boolean;
}

function parseHead(head: string): RequestHead | undefined {
  const lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd === -1 ? head : head.slice(0, lineEnd);
  const m = /^[A-Z]+ \S+ HTTP\/1\.([01])$/.exec(requestLine);
  if (!m) return undefined;
  const connection = /\r\nconnection:[ \t]*([^\r]*)/i.exec(head)?.[1]?.toLowerCase() ?? '';
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
  return {
    keepAlive: m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive'),
    bodyBytes: length ? Number(length) : 0,
    chunked: /\r\ntransfer-encoding:[^\r]*chunked/i.test(head),
  };
}

const NODE_ONLY = {
  closeStyle: 'graceful',
  requestBody: 'read',
  delay: 0,
  body: 'length',
  status: 200,
  keepAliveHeader: true,
} as const;

export const httpServer = defineActorKind({
  kind: 'http-server',
  role: 'server',
  describe: 'HTTP/1.1 server (node, or a real nginx) with keep-alive on or off, a chosen closer and close style',
  options,
  link(o, ctx, where, problems): { engineBinary?: string } | undefined {
    if (o.engine === 'node') {
      if (o.binary !== undefined) problems.push(`${where}.binary: only engine nginx has an executable`);
      return {};
    }
    const before = problems.length;
    for (const [key, value] of Object.entries(NODE_ONLY)) {
      if (o[key as keyof typeof NODE_ONLY] !== value)
        problems.push(
          `${where}.${key}: ${JSON.stringify(o[key as keyof typeof NODE_ONLY])} needs engine node (nginx closes gracefully, reads every body and answers at once)`,
        );
    }
    const binary = engineBinary('nginx', o.binary, ctx, where, problems);
    return problems.length > before ? undefined : { engineBinary: binary };
  },
  connections: ({ options: o }) => ({
    // libuv and nginx set SO_REUSEADDR on every listening socket.
    // A close-delimited body can end only with the server's close: no connection carries a second request.
    accepts: {
      port: o.port,
      backlog: o.backlog,
      acceptAfterMs: 0,
      reuseAddr: true,
      keepAlive: o.keepAlive && o.body === 'length',
      ...(o.keepAlive && o.body === 'length'
        ? {
            idleTimeoutMs: o.keepAliveTimeout,
            ...(o.keepAliveHeader ? { idleHintMs: Math.ceil(o.keepAliveTimeout / 1000) * 1000 } : {}),
          }
        : {}),
      closeStyle: o.closeStyle,
      unreadBody: o.requestBody === 'unread',
    },
    dials: [],
  }),
  create(plan, ctx: ActorContext): Actor<NodeServerStats | NginxServerStats> {
    const o = plan.options;
    if (o.engine === 'nginx') {
      return nginxServer(
        {
          name: plan.name,
          binary: plan.engineBinary!,
          host: listenHost(plan),
          port: o.port,
          backlog: o.backlog,
          workers: o.workers,
          keepAlive: o.keepAlive,
          keepAliveTimeoutMs: o.keepAliveTimeout,
          keepAliveRequests: o.keepAliveRequests,
          closer: o.closer,
          responseBytes: o.responseBytes,
        },
        ctx,
      );
    }
    const body = Buffer.alloc(o.responseBytes, 'x');
    const closeDelimited = o.body === 'close-delimited';
    const status = `${o.status} ${REASONS[o.status] ?? 'Status'}`;
    const hint = o.keepAliveHeader ? Math.ceil(o.keepAliveTimeout / 1000) : undefined;
    const okKeepAlive = responseFor(status, body, true, hint);
    const okClose = responseFor(status, body, false, undefined, closeDelimited);
    const badRequest = responseFor('400 Bad Request', Buffer.alloc(0), false);
    const notImplemented = responseFor(
      '501 Not Implemented',
      Buffer.from('chunked request bodies are not supported'),
      false,
    );

    const errors = new ErrorTally(ctx.now);
    const sockets = new Set<net.Socket>();
    const counts = {
      accepted: 0,
      requests: 0,
      responses: 0,
      serverClosedFirst: 0,
      peerClosedFirst: 0,
      idleCloses: 0,
      resetsSent: 0,
      leaked: 0,
      closedUnread: 0,
    };
    let closing = false;

    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    const ended = deferred();
    const done = ended.promise;
    server.on('close', () => ended.resolve());
    server.on('error', (err) => errors.add(err as NodeJS.ErrnoException));

    server.on('connection', (sock) => {
      counts.accepted++;
      sockets.add(sock);
      let pending: Buffer = Buffer.alloc(0);
      let skipBody = 0;
      let peerEnded = false;
      let weClosed = false;
      let busy = false;
      let idleTimer: NodeJS.Timeout | undefined;
      let served = 0;

      const closeNow = () => {
        if (weClosed) return;
        weClosed = true;
        clearTimeout(idleTimer);
        if (o.closeStyle === 'never') {
          counts.leaked++;
          return;
        }
        if (peerEnded) counts.peerClosedFirst++;
        else counts.serverClosedFirst++;
        if (o.closeStyle === 'graceful') sock.end();
        // Once the response reached the kernel: destroy() before that would drop it in node's own queue.
        else if (o.closeStyle === 'close') sock.write(EMPTY, () => sock.destroy());
        else {
          counts.resetsSent++;
          sock.resetAndDestroy();
        }
      };

      const respond = (res: Buffer, keepAlive: boolean) => {
        counts.responses++;
        sock.write(res);
        busy = false;
        if (keepAlive) {
          if (peerEnded) closeNow();
          else {
            idleTimer = setTimeout(() => {
              if (!weClosed && !peerEnded) counts.idleCloses++;
              closeNow();
            }, o.keepAliveTimeout);
            consume();
          }
        } else if (o.closer === 'server' || closeDelimited || peerEnded) closeNow();
        // closer 'client': wait for the peer's FIN ('end' below), then close.
      };

      // The body's end is the close, so a close-delimited response never keeps the connection.
      const keepAliveFor = (head: RequestHead) =>
        o.keepAlive &&
        !closeDelimited &&
        head.keepAlive &&
        !closing &&
        (o.keepAliveRequests === 0 || served < o.keepAliveRequests);

      // Stop reading so the body stays in the kernel's receive queue; close(2) with unread data makes
      // tcp_close() send an RST instead of a FIN (TcpExt.TCPAbortOnClose), whatever the close style.
      const closeUnread = (res: Buffer) => {
        sock.pause();
        counts.responses++;
        counts.closedUnread++;
        counts.serverClosedFirst++;
        weClosed = true;
        sock.write(res, () => sock.destroy());
      };

      const consume = () => {
        if (busy || weClosed) return;
        if (skipBody > 0) {
          const n = Math.min(skipBody, pending.length);
          skipBody -= n;
          pending = pending.subarray(n);
          if (skipBody > 0) return;
        }
        const end = pending.indexOf(HEAD_END);
        if (end === -1) {
          if (pending.length > MAX_HEAD) respond(badRequest, false);
          return;
        }
        const head = parseHead(pending.toString('latin1', 0, end));
        pending = pending.subarray(end + HEAD_END.length);
        clearTimeout(idleTimer);
        counts.requests++;
        busy = true;
        if (!head) return respond(badRequest, false);
        if (head.chunked) return respond(notImplemented, false);
        if (o.requestBody === 'unread' && head.bodyBytes > 0)
          return closeUnread(keepAliveFor(head) ? okKeepAlive : okClose);
        skipBody = head.bodyBytes;
        served++;
        const keepAlive = keepAliveFor(head);
        const res = keepAlive ? okKeepAlive : okClose;
        if (o.delay > 0) setTimeout(() => !sock.destroyed && respond(res, keepAlive), o.delay);
        else respond(res, keepAlive);
      };

      sock.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        consume();
      });
      sock.on('end', () => {
        peerEnded = true;
        // The peer closed first. Without 'never' we close too (a passive close: LAST_ACK, no TIME_WAIT here).
        if (!busy) closeNow();
      });
      sock.on('error', (err: NodeJS.ErrnoException) => errors.add(err));
      sock.on('close', () => {
        clearTimeout(idleTimer);
        sockets.delete(sock);
      });
    });

    return {
      done,
      start: () =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: o.port, host: listenHost(plan), backlog: o.backlog }, () => {
            server.off('error', reject);
            ctx.log('info', 'listening', { port: o.port });
            resolve();
          });
        }),
      async close() {
        closing = true;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const sock of sockets) sock.end();
        });
      },
      destroy() {
        closing = true;
        server.close();
        for (const sock of sockets) sock.destroy();
      },
      stats: () => ({ engine: 'node' as const, ...counts, open: sockets.size, errors: errors.toJSON() }),
    };
  },
});
