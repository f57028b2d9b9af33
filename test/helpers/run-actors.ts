// Inside a lab host: runs the actors given as JSON (servers first, then load until done) and prints
// every actor's final stats as JSON. Options left out take the kind's defaults, as in a plan.
import { performance } from 'node:perf_hooks';
import { actorKind } from '../../src/actors/registry.ts';
import { resolveFields } from '../../src/core/fields.ts';
import type { ActorPlan } from '../../src/core/plan.ts';

const problems: string[] = [];
const plans = (JSON.parse(process.argv[2]!) as ActorPlan[]).map((p) => ({
  ...p,
  role: actorKind(p.kind)!.role,
  options: resolveFields(actorKind(p.kind)!.options, p.options, p.name, problems),
}));
if (problems.length) throw new Error(problems.join('\n'));
const now = () => performance.now();
const actors = plans.map((plan) => ({
  plan,
  actor: actorKind(plan.kind)!.create(plan as never, { plan, now, log: () => undefined }),
}));
for (const { actor } of actors.filter((a) => a.plan.role === 'server')) await actor.start();
const load = actors.filter((a) => a.plan.role === 'load');
for (const { actor } of load) await actor.start();
await Promise.all(load.map((a) => a.actor.done));
const stats = Object.fromEntries(actors.map((a) => [a.plan.name, a.actor.stats()]));
await Promise.all(actors.map((a) => a.actor.close()));
process.stdout.write(`${JSON.stringify(stats)}\n`);
