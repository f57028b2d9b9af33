// Entry point of an agent process. A lab driver starts it inside a host's namespace with its stdio as the line
// to the controller (`main.js <label>`), or a container runtime starts it waiting for the controller on a unix
// socket (`main.js --socket <dir>/<host>.sock [--wait-s N]`), or on TCP with the run's token in its environment
// (`WAITLAB_AGENT_TOKEN=<hex> main.js --tcp <port> [--listen <IPv4>] [--wait-s N]`): a pod's agent. With `--group
// <label>` it serves many hosts of a netns lab from outside them, each line tagged with its host (group-agent.ts).
import { isIPv4 } from 'node:net';
import { basename } from 'node:path';
import { AGENT_TOKEN, TOKEN_ENV } from '../core/agent-token.ts';
import { runAgent } from './agent.ts';
import { runGroupAgent } from './group-agent.ts';
import { AGENT_SOCKET, serveAgentOnSocket } from './socket-transport.ts';
import { serveAgentOnTcp } from './tcp-transport.ts';

const DEFAULT_WAIT_S = 600;

const args = process.argv.slice(2);
if (args[0] === '--socket') {
  const path = args[1] ?? '';
  const waitS = args[2] === '--wait-s' ? Number(args[3]) : DEFAULT_WAIT_S;
  if (
    !path.startsWith('/') ||
    !AGENT_SOCKET.test(basename(path)) ||
    !Number.isInteger(waitS) ||
    waitS < 1 ||
    waitS > 86_400
  ) {
    process.stderr.write('usage: main.js --socket /absolute/dir/<host>.sock [--wait-s 1..86400]\n');
    process.exit(2);
  }
  serveAgentOnSocket(path, waitS * 1000);
} else if (args[0] === '--tcp') {
  const port = Number(args[1]);
  const options = new Map<string, string | undefined>();
  for (let i = 2; i < args.length; i += 2) options.set(args[i]!, args[i + 1]);
  const known = args.length % 2 === 0 && [...options.keys()].every((k) => k === '--listen' || k === '--wait-s');
  const listen = options.get('--listen');
  const waitS = Number(options.get('--wait-s') ?? DEFAULT_WAIT_S);
  const token = process.env[TOKEN_ENV] ?? '';
  if (
    !known ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535 ||
    (listen !== undefined && !isIPv4(listen)) ||
    !Number.isInteger(waitS) ||
    waitS < 1 ||
    waitS > 86_400 ||
    !AGENT_TOKEN.test(token)
  ) {
    process.stderr.write(
      `usage: ${TOKEN_ENV}=<64 hex digits> main.js --tcp <1..65535> [--listen <IPv4 address>] [--wait-s 1..86400]\n`,
    );
    process.exit(2);
  }
  serveAgentOnTcp({ port, token, waitMs: waitS * 1000, ...(listen ? { listen } : {}) });
} else if (args[0] === '--group') {
  // The label (the bridge namespace's name) only names the process for ps and for tests.
  runGroupAgent(
    process.stdin,
    (envelope) => process.stdout.write(`${JSON.stringify(envelope)}\n`),
    (code) => process.exit(code),
  );
} else {
  runAgent(
    process.stdin,
    (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
    (code) => process.exit(code),
  );
}
