// The controller's side of an agent that waits on a unix socket (agent/socket-transport.ts): an AgentChannel
// whose stdin and stdout are the socket. The agent's container may still be starting, so the connect is retried
// until a deadline; commands written before the connection are held and sent when it opens.
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
    private readonly path: string,
    deadline: number,
  ) {
    super();
    this.attempt(deadline);
  }

  private attempt(deadline: number): void {
    const socket = connect(this.path);
    socket.once('connect', () => {
      this.socket = socket;
      this.stdin.pipe(socket);
      socket.pipe(this.stdout);
      socket.once('close', (hadError) => this.exit(hadError ? 1 : 0, null));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (this.socket === socket || this.ended) return;
      socket.destroy();
      // ENOENT: the agent has not created its socket yet; ECONNREFUSED: a socket file with no listener behind it yet.
      if ((err.code === 'ENOENT' || err.code === 'ECONNREFUSED') && Date.now() + RETRY_MS < deadline) {
        this.retry = setTimeout(() => this.attempt(deadline), RETRY_MS);
        return;
      }
      this.ended = true;
      this.emit('error', new Error(`cannot reach the agent at ${this.path}: ${err.message}`));
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
  return new SocketChannel(path, Date.now() + timeoutMs);
}
