// Entry point of an agent process (started by a lab driver inside a host's namespace).
import { runAgent } from './agent.ts';

runAgent(
  process.stdin,
  (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
  (code) => process.exit(code),
);
