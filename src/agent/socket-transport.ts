// An agent reached over a unix socket instead of its stdio: the way into a container, whose agent is started by
// the container runtime and waits for its controller on a socket in a directory shared with it (a bind mount
// or a compose volume). One controller, once: the agent stops listening at its first connection, and exits
// when that connection ends, as a stdio agent does when its stdin closes.
import { chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { runAgent } from './agent.ts';

/** A socket path inside the agents' directory: <host>.sock, the host name as the plan spells it. */
export const AGENT_SOCKET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\.sock$/;

export function serveAgentOnSocket(path: string, waitMs: number): void {
  // A socket file left by an earlier container of the same service would make listen() fail with EADDRINUSE.
  rmSync(path, { force: true });
  // An agent that is pid 1 of its container gets no default action for SIGTERM/SIGINT from the kernel:
  // without handlers `docker compose down` would wait its 10 s and SIGKILL.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  const giveUp = setTimeout(() => {
    process.stderr.write(`waitlab agent: no controller connected to ${path} within ${Math.round(waitMs / 1000)} s; exiting\n`);
    process.exit(1);
  }, waitMs);
  const server = createServer((socket) => {
    clearTimeout(giveUp);
    server.close();
    rmSync(path, { force: true });
    socket.on('error', () => undefined);
    runAgent(
      socket,
      (event) => socket.write(`${JSON.stringify(event)}\n`),
      // A socket write is asynchronous: the last events must reach the controller before the process ends.
      (code) => {
        socket.end(() => process.exit(code));
        setTimeout(() => process.exit(code), 2000).unref();
      },
    );
  });
  server.on('error', (err) => {
    process.stderr.write(`waitlab agent: cannot listen on ${path}: ${err.message}\n`);
    process.exit(1);
  });
  // Only root (the controller's side of the shared directory) may connect.
  server.listen(path, () => chmodSync(path, 0o600));
}
