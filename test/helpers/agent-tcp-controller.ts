// A controller's side of one TCP agent, run inside a lab host: first a connection with a wrong token (its events
// are what the agent answered), then one with the right token that takes the agent through init, serve (until two
// samples with a census), finish and stop. Prints {refused, events, census} as JSON.
// argv: <address> <port> <wrong token> <right token> <init command as JSON>
import { connectAgentTcp } from '../../src/lab/agent-socket.ts';
import type { AgentChannel } from '../../src/lab/driver.ts';

const [address, port, wrong, right, init] = process.argv.slice(2) as [string, string, string, string, string];

function events(channel: AgentChannel, onEvent: (e: { type: string; [k: string]: unknown }) => void): Promise<void> {
  let buffered = '';
  channel.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let end: number;
    while ((end = buffered.indexOf('\n')) !== -1) {
      onEvent(JSON.parse(buffered.slice(0, end)) as { type: string });
      buffered = buffered.slice(end + 1);
    }
  });
  return new Promise((resolve, reject) => {
    channel.on('exit', () => resolve());
    channel.on('error', reject);
  });
}

const refused: unknown[] = [];
await events(connectAgentTcp(address, Number(port), wrong, 10_000), (e) => refused.push(e));

const seen: string[] = [];
const censuses: unknown[] = [];
const channel = connectAgentTcp(address, Number(port), right, 10_000);
const send = (cmd: object) => channel.stdin!.write(`${JSON.stringify(cmd)}\n`);
const done = events(channel, (e) => {
  seen.push(e.type);
  if (e.type === 'hello') send({ ...(JSON.parse(init) as object), t0: Date.now() });
  if (e.type === 'ready') send({ cmd: 'serve' });
  if (e.type === 'sample' && e['tcp']) {
    censuses.push(e['tcp']);
    if (censuses.length === 2) send({ cmd: 'finish' });
  }
  if (e.type === 'finished') send({ cmd: 'stop' });
  if (e.type === 'stopped') channel.kill();
});
await done;
process.stdout.write(JSON.stringify({ refused, events: [...new Set(seen)], census: censuses.at(-1) }));
