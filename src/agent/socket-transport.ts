// An agent reached over a unix socket instead of its stdio: the way into a container, whose agent is started by
// the container runtime and waits for its controller on a socket in a directory shared with it (a bind mount
// or a compose volume). One controller, once: the agent stops listening at its first connection, and exits
// when that connection ends, as a stdio agent does when its stdin closes.
import { chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { runAgent } from './agent.ts';

/** How long a finished agent waits for its controller to hang up before it exits anyway. */
const LINGER_MS = 120_000;

/** A socket path inside the agents' directory: <host>.sock, the host name as the plan spells it. */
export const AGENT_SOCKET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\.sock$/;

export function serveAgentOnSocket(path: string, waitMs: number): void {
  // A socket file left by an earlier container of the same service would make listen() fail with EADDRINUSE.
  rmSync(path, { force: true });
  // An agent that is pid 1 of its container gets no default action for SIGTERM/SIGINT from the kernel:
  // without handlers `docker compose down` would wait its 10 s and SIGKILL.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  const giveUp = setTimeout(() => {
    process.stderr.write(
      `waitlab agent: no controller connected to ${path} within ${Math.round(waitMs / 1000)} s; exiting\n`,
    );
    process.exit(1);
  }, waitMs);
  const server = createServer((socket) => {
    clearTimeout(giveUp);
    server.close();
    rmSync(path, { force: true });
    socket.on('error', () => undefined);
    let exitCode: number | undefined;
    socket.once('close', () => process.exit(exitCode ?? 0));
    runAgent(
      socket,
      (event) => socket.write(`${JSON.stringify(event)}\n`),
      // The agent stays until its controller closes the connection (its teardown, or its exit): under
      // `compose up --exit-code-from waitlab` the first container to exit stops all the others, and that must be
      // the controller, after its report is written, not an agent before it.
      (code) => {
        exitCode = code;
        setTimeout(() => process.exit(code), LINGER_MS);
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
