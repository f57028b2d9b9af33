// Inside a lab host: the short-conn-client actor (the agent's own code, from dist/) against ADDRESS:PORT in the
// closed model, CONCURRENCY connections at a time for SECONDS on WORKERS threads (1 by default) with ENGINE (node by
// default, or native), waiting for the server's FIN as a client sending `Connection: close` does; prints its stats as JSON.
import { performance } from 'node:perf_hooks';
import { shortConnClient } from '../../dist/actors/short-conn-client.js';
import { resolveFields } from '../../dist/core/fields.js';

const [address, port, concurrency, seconds, workers = '1', engine = 'node'] = process.argv.slice(2);
const problems = [];
const options = resolveFields(
  shortConnClient.options,
  { target: 'web', model: 'closed', concurrency, duration: `${seconds}s`, closer: 'server', workers, engine },
  'flood',
  problems,
);
if (problems.length) throw new Error(problems.join('\n'));
const plan = {
  name: 'flood',
  kind: shortConnClient.kind,
  role: 'load',
  host: 'client',
  options,
  connect: { actor: 'web', host: 'server', address, port: Number(port) },
};
const actor = shortConnClient.create(plan, { plan, now: () => performance.now(), log: () => undefined });
await actor.start();
await actor.done;
const stats = actor.stats();
await actor.close();
process.stdout.write(`${JSON.stringify(stats)}\n`);
