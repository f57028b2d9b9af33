// The controller's side of an agent that waits on a unix socket (agent/socket-transport.ts): an AgentChannel
// whose stdin and stdout are the socket. The agent's container may still be starting, so the connect is retried
// until a deadline; commands written before the connection are held and sent when it opens. An agent on TCP
// (agent/tcp-transport.ts) is reached the same way, the run's token as the first line.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { AgentChannel } from './driver.ts';

const RETRY_MS = 100;

class SocketChannel extends EventEmitter implements AgentChannel {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = null;
  private socket: Socket | undefined;
  private ended = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: { path: string } | { host: string; port: number; token: string },
    deadline: number,
  ) {
    super();
    this.attempt(deadline);
  }

  private attempt(deadline: number): void {
    const socket = 'path' in this.target ? connect(this.target.path) : connect(this.target.port, this.target.host);
    socket.once('connect', () => {
      this.socket = socket;
      if ('token' in this.target) socket.write(`${JSON.stringify({ auth: this.target.token })}\n`);
      this.stdin.pipe(socket);
      socket.pipe(this.stdout);
      socket.once('close', (hadError) => this.exit(hadError ? 1 : 0, null));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (this.socket === socket || this.ended) return;
      socket.destroy();
      // ENOENT: the agent has not created its socket yet; ECONNREFUSED: a socket file (or a port) with no listener
      // behind it yet; EHOSTUNREACH: a pod whose address is not on its network yet.
      if (
        (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH') &&
        Date.now() + RETRY_MS < deadline
      ) {
        this.retry = setTimeout(() => this.attempt(deadline), RETRY_MS);
        return;
      }
      this.ended = true;
      this.emit(
        'error',
        new Error(
          `cannot reach the agent at ${'path' in this.target ? this.target.path : `${this.target.host}:${this.target.port}`}: ${err.message}`,
        ),
      );
    });
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.stdout.end();
    this.emit('exit', code, signal);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    clearTimeout(this.retry);
    // The agent sees its connection end and exits; the driver's teardown removes its container either way.
    this.socket?.destroy();
    this.exit(null, signal);
    return true;
  }
}

export function connectAgent(path: string, timeoutMs: number): AgentChannel {
  return new SocketChannel({ path }, Date.now() + timeoutMs);
}

/** An agent listening on TCP: the token goes first, and an agent that refuses it answers with a fatal event and hangs up. */
export function connectAgentTcp(host: string, port: number, token: string, timeoutMs: number): AgentChannel {
  return new SocketChannel({ host, port, token }, Date.now() + timeoutMs);
}
