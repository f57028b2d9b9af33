// A scenario's actors as the plan holds them, in two steps: each actor's options resolved against its kind's fields,
// then each actor linked to the others (whom it dials, the tools it needs) and given its connection model.
import { actorKind } from '../actors/registry.ts';
import type { LinkContext } from '../actors/actor.ts';
import { lacksRequired, resolveFields } from '../core/fields.ts';
import { isInheritedName } from '../core/own-keys.ts';
import type { ActorPlan, HostPlan, LabFamily } from '../core/plan.ts';
import type { ScenarioSpec } from '../core/scenario.ts';
import type { PlanTools } from './plan-tools.ts';

const ACTOR_NAME = /^[a-z][a-z0-9-]{0,31}$/;

type ActorOptions = LinkContext['actors'];

export interface ResolvedActorOptions {
  options: Record<string, ActorOptions[string]>;
  /** Actors missing a required option: not linked (their problem is listed), as link() may rely on every required option. */
  unlinkable: Set<string>;
  /** Actors with a problem in their own options (a port out of range): refused with it, named once. */
  refused: Set<string>;
  problems: string[];
}

/** `replicaNames`: the actors --scale or `replicas` made, named by waitlab outside the names a scenario may choose. */
export function resolveActorOptions(
  spec: ScenarioSpec,
  hosts: Readonly<Record<string, HostPlan>>,
  replicaNames: ReadonlySet<string>,
): ResolvedActorOptions {
  const problems: string[] = [];
  const resolved: Record<string, ActorOptions[string]> = {};
  const unlinkable = new Set<string>();
  const refused = new Set<string>();
  for (const [name, actor] of Object.entries(spec.actors ?? {})) {
    const where = `actors.${name}`;
    if ((!ACTOR_NAME.test(name) && !replicaNames.has(name)) || isInheritedName(name))
      problems.push(`${where}: an actor name is lower-case letters, digits and dashes, starting with a letter`);
    const { kind, host, ...options } = actor;
    const def = actorKind(kind);
    if (!def) {
      problems.push(`${where}.kind: unknown actor kind "${kind}"`);
      continue;
    }
    if (!Object.hasOwn(hosts, host))
      problems.push(`${where}.host: no host "${host}" (hosts: ${Object.keys(hosts).join(', ')})`);
    const before = problems.length;
    resolved[name] = {
      kind,
      host,
      options: resolveFields(def.options, options, where, problems) as Record<string, unknown>,
    };
    if (problems.length > before) refused.add(name);
    if (lacksRequired(def.options, options)) unlinkable.add(name);
  }
  return { options: resolved, unlinkable, refused, problems };
}

export interface LinkedActors {
  actors: Record<string, ActorPlan>;
  /** The longest any load actor can run. */
  maxLoadMs: number;
  problems: string[];
}

/** `scenarioDir`: where an actor's relative paths start; `tools` gathers the system tools the actors need. */
export function linkActors(
  resolved: ResolvedActorOptions,
  hosts: Readonly<Record<string, HostPlan>>,
  scenarioDir: string,
  tools: PlanTools,
  family: LabFamily = 'ipv4',
): LinkedActors {
  const problems: string[] = [];
  const actors: Record<string, ActorPlan> = {};
  let maxLoadMs = 0;
  for (const [name, { kind, host, options }] of Object.entries(resolved.options)) {
    const def = actorKind(kind)!;
    const linkable = !resolved.unlinkable.has(name);
    const before = problems.length;
    const linked = linkable
      ? def.link?.(
          options as never,
          {
            self: { name, host },
            hosts,
            scenarioDir,
            actors: resolved.options,
            refused: resolved.refused,
            needTool: (tool) => tools.need(tool, `actors.${name}`),
          },
          `actors.${name}`,
          problems,
        )
      : undefined;
    // '::' takes IPv4 as well (IPV6_V6ONLY is off by default): one listener serves a dual-stack host's two addresses.
    const listen = def.role === 'server' && family !== 'ipv4' ? { listenAddress: '::' as const } : {};
    const actor: ActorPlan = { name, kind, role: def.role, host, options, ...listen, ...linked };
    // An actor whose link() pushed a problem is refused with the plan, and its model would rest on nothing; so is
    // every actor of a plan with refused options (a link to a refused actor resolves to nothing, unsaid).
    actors[name] =
      linkable && problems.length === before && resolved.refused.size === 0
        ? { ...actor, connections: def.connections(actor as never) }
        : actor;
    if (def.maxDurationMs) maxLoadMs = Math.max(maxLoadMs, def.maxDurationMs(options as never));
  }
  return { actors, maxLoadMs, problems };
}
