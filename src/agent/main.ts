// Entry point of an agent process. A lab driver starts it inside a host's namespace with its stdio as the line
// to the controller (`main.js <label>`), or a container runtime starts it waiting for the controller on a unix
// socket (`main.js --socket <dir>/<host>.sock [--wait-s N]`).
import { basename } from 'node:path';
import { runAgent } from './agent.ts';
import { AGENT_SOCKET, serveAgentOnSocket } from './socket-transport.ts';

const DEFAULT_WAIT_S = 600;

const args = process.argv.slice(2);
if (args[0] === '--socket') {
  const path = args[1] ?? '';
  const waitS = args[2] === '--wait-s' ? Number(args[3]) : DEFAULT_WAIT_S;
  if (!path.startsWith('/') || !AGENT_SOCKET.test(basename(path)) || !Number.isInteger(waitS) || waitS < 1 || waitS > 86_400) {
    process.stderr.write('usage: main.js --socket /absolute/dir/<host>.sock [--wait-s 1..86400]\n');
    process.exit(2);
  }
  serveAgentOnSocket(path, waitS * 1000);
} else {
  runAgent(
    process.stdin,
    (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
    (code) => process.exit(code),
  );
}
