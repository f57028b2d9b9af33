// The agent on TCP, for hosts that share no directory with their controller (pods, on one node or several): it
// listens on a port of its own network namespace and serves the first connection whose first line is the run's
// token, {"auth":"<64 hex digits>"}. A connection with another token, or none within its first line, is answered
// with a fatal event, logged on the agent's stderr (its container's log) and closed; the agent goes on waiting for
// its controller. Once served, it stops listening and exits when that connection ends, as the unix-socket agent does.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { runAgent } from './agent.ts';

/** The first line is the token and nothing more: a peer that sends more without a newline is not a controller. */
const MAX_AUTH_LINE = 256;
/** How long a finished agent waits for its controller to hang up before it exits anyway. */
const LINGER_MS = 120_000;

export interface TcpAgentOptions {
  port: number;
  /** An address of the agent's own namespace to listen on; all of them when absent. */
  listen?: string;
  token: string;
  waitMs: number;
}

function tokenMatches(line: string, token: string): boolean {
  let given: unknown;
  try {
    given = (JSON.parse(line) as { auth?: unknown }).auth;
  } catch {
    return false;
  }
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function serveAgentOnTcp(options: TcpAgentOptions): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  const giveUp = setTimeout(() => {
    process.stderr.write(
      `waitlab agent: no controller connected to port ${options.port} within ${Math.round(options.waitMs / 1000)} s; exiting\n`,
    );
    process.exit(1);
  }, options.waitMs);
  let served = false;

  const refuse = (socket: Socket, why: string) => {
    // A socket listening on every address (::) sees an IPv4 peer as ::ffff:a.b.c.d.
    const peer = (socket.remoteAddress ?? '?').replace(/^::ffff:(?=\d+\.)/, '');
    process.stderr.write(`waitlab agent: refused a connection from ${peer}:${socket.remotePort}: ${why}\n`);
    socket.end(`${JSON.stringify({ type: 'fatal', message: `the agent refused this connection: ${why}` })}\n`);
  };

  const serve = (socket: Socket, rest: Buffer) => {
    served = true;
    clearTimeout(giveUp);
    server.close();
    const input = new PassThrough();
    input.write(rest);
    socket.pipe(input);
    let exitCode: number | undefined;
    socket.once('close', () => process.exit(exitCode ?? 0));
    runAgent(
      input,
      (event) => socket.write(`${JSON.stringify(event)}\n`),
      (code) => {
        exitCode = code;
        setTimeout(() => process.exit(code), LINGER_MS);
      },
      options.port,
    );
  };

  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(0x0a);
      if (end === -1) {
        if (head.length > MAX_AUTH_LINE) finish(() => refuse(socket, 'no token line'));
        return;
      }
      const line = head.subarray(0, end).toString('utf8');
      const rest = head.subarray(end + 1);
      finish(() =>
        served
          ? refuse(socket, 'another controller is already served')
          : tokenMatches(line, options.token)
            ? serve(socket, rest)
            : refuse(socket, 'wrong token'),
      );
    };
    const finish = (then: () => void) => {
      socket.off('data', onData);
      socket.pause();
      then();
    };
    socket.on('data', onData);
  });
  server.on('error', (err) => {
    process.stderr.write(`waitlab agent: cannot listen on port ${options.port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen({ port: options.port, ...(options.listen ? { host: options.listen } : {}) });
}
